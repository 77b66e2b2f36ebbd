/**
 * The portfolio a report is about, put together after the run: the holdings
 * file's amounts matched to the tickers the run resolved, each holding's
 * previous stored score, and its Monte Carlo draws for the portfolio's
 * interval. The figures themselves are `Portfolio`'s, pure.
 *
 * @since 0.1.0
 */
import { Effect, Either, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import { type CompanyOutcome, ScoreInput, type Scored, type Ticker } from "../Domain.js"
import { Fundamentals } from "../Fundamentals.js"
import { type Basis, type Holdings, holdingsKey, portfolioFigures, type PortfolioView, type Position, PreviousRun, previousRunOf, weightsOf } from "../Portfolio.js"
import { drawScores } from "../ScoreModel.js"
import { ScoreStore } from "../ScoreStore.js"
import type { RunReport } from "../Summary.js"
import { Universe } from "../universe/Universe.js"
import type { Amounts } from "./Inputs.js"

/** Draws a portfolio's interval is read from, at the most (each holding's first draws of its own Monte Carlo). */
const MOST_DRAWS = 1000
/** Draws over all holdings, at the most: a larger portfolio reads its interval from fewer draws each. */
const MOST_DRAWS_IN_ALL = 2_000_000
/** Fewer draws a holding than this give no interval worth the name: none is given. */
const LEAST_DRAWS = 100

/** A run's kept figures, read back; a row this version cannot read is no previous run. */
const KeptRun = Schema.parseJson(PreviousRun.pipe(Schema.omit("at")))
const decodeKept = (figures: string, at: number) =>
  Either.match(Schema.decodeUnknownEither(KeptRun)(figures), {
    onLeft: () => null,
    onRight: (kept) => ({ at: new Date(at).toISOString(), ...kept })
  })

const basisOf = (amounts: Amounts | undefined): Basis =>
  amounts === undefined ? "equal" : amounts.kind === "value" ? "value" : amounts.percent ? "percent" : "fraction"

/** Each input's ticker: the run's, or (for an input the run dropped as a duplicate) resolved again; null for none. */
const tickersOf = (inputs: ReadonlyArray<string>, outcomes: ReadonlyArray<CompanyOutcome>) =>
  Effect.gen(function*() {
    const known = new Map<string, Ticker | null>()
    for (const outcome of outcomes) known.set(outcome.input, outcome.ticker)
    const unknown = [...new Set(inputs.filter((input) => !known.has(input)))]
    if (unknown.length > 0) {
      const resolved = yield* (yield* Fundamentals).resolve(unknown)
      unknown.forEach((input, i) => known.set(input, Either.getOrNull(resolved[i]!)))
    }
    return known
  })

/** The portfolio of `inputs` (with their `amounts`, when a holdings file gave them) after `report`'s run. */
export const portfolioViewOf = (
  inputs: ReadonlyArray<string>,
  amounts: Amounts | undefined,
  report: RunReport,
  options: { readonly startedAt: number; readonly samples: number; readonly seed: number; readonly minCoverage: number }
) =>
  Effect.gen(function*() {
    const tickers = yield* tickersOf(inputs, report.outcomes)
    const positions: Array<Position> = inputs.map((input, i) => ({
      input,
      ticker: tickers.get(input) ?? null,
      amount: amounts?.values[i] ?? 1
    }))
    const holdings: Holdings = { basis: basisOf(amounts), positions }

    // each company's previous score: the newest stored before the one it has now (computed in this run, or cached)
    const store = yield* ScoreStore
    const scoredTickers = report.outcomes.flatMap((outcome) => (outcome.ticker === null ? [] : [outcome.ticker]))
    const history = yield* store.history(scoredTickers, options.startedAt)
    const previous = new Map(report.outcomes.flatMap((outcome) => {
      if (outcome.ticker === null) return []
      const before = outcome._tag === "Scored" && outcome.cachedAt !== undefined ? outcome.cachedAt : options.startedAt
      return [[outcome.ticker, history.get(outcome.ticker)?.find((past) => past.scoredAt < before) ?? null] as const]
    }))

    const scored = report.outcomes.filter((outcome) => outcome._tag === "Scored").length
    const draws = Math.min(options.samples, MOST_DRAWS, Math.floor(MOST_DRAWS_IN_ALL / Math.max(1, scored)))
    const universe = yield* Effect.serviceOption(Universe)
    const drawsOf = draws >= LEAST_DRAWS && Option.isSome(universe)
      ? (outcome: Scored) =>
        drawScores(universe.value.peers, new ScoreInput({ fundamentals: outcome.fundamentals, emissions: outcome.emissions, governance: outcome.governance }, true), { samples: draws, seed: options.seed })
      : undefined

    const computed = portfolioFigures(holdings, report.outcomes, { minCoverage: options.minCoverage, draws: drawsOf })
    // the same holdings' figures in the store's newest run before this one; this run's kept for the next
    const { at: _, ...kept } = previousRunOf(computed, "")
    // no fingerprint for a run without a store: it would keep nothing
    const before = store.origin === "none"
      ? undefined
      : yield* store.portfolioRun(createHash("sha256").update(holdingsKey(holdings)).digest("hex"), options.startedAt, JSON.stringify(kept))
    const previousRun = before === undefined ? null : decodeKept(before.figures, before.at)
    const figures = { ...computed, previousRun }
    const view: PortfolioView = {
      figures,
      sources: report.summary.sources,
      cache: report.summary.cache,
      weights: weightsOf(holdings),
      previous
    }
    return view
  })
