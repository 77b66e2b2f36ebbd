/**
 * The portfolio view: holdings (weights, values, or none) and the run's
 * outcomes in, the figures a sustainability team reports out: WACI,
 * financed emissions and footprint, the weighted score with its 90 %
 * interval, coverage, the rating mix, the sectors, the largest contributors
 * and the lowest-rated holdings. Pure: the same holdings and outcomes give
 * the same figures. Every figure is computed over the holdings that have
 * its data, and says on how much of the portfolio (`coverage`).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import type { CompanyOutcome, Scored, Ticker } from "./Domain.js"
import { pcafGrade, Rating, ratings, reasonCode } from "./Domain.js"
import { carbonIntensity, ratingOf } from "./ScoreModel.js"

/**
 * One row of a holdings file: what was typed, the ticker it resolved to (`null`: not in the universe), and its
 * amount (a weight, or a value in USD; 1 for every row of a file with neither).
 *
 * @since 0.1.0
 */
export interface Position {
  readonly input: string
  readonly ticker: Ticker | null
  readonly amount: number
}

/**
 * How the holdings were weighed: by a `weight` column (read as percentages or fractions), by a `value` column
 * (USD), or equally (a file or a list with neither).
 *
 * @since 0.1.0
 */
export type Basis = "percent" | "fraction" | "value" | "equal"

/**
 * The holdings of a portfolio: its positions (a company named twice is two positions, added up) and their basis.
 *
 * @since 0.1.0
 */
export interface Holdings {
  readonly basis: Basis
  readonly positions: ReadonlyArray<Position>
}

const Fraction = Schema.Number.pipe(Schema.between(0, 1.000001))

/**
 * A share of the portfolio: of its weight (0–1) and of its holdings (0–1).
 *
 * @since 0.1.0
 */
export const Share = Schema.Struct({ weight: Fraction, holdings: Fraction })
/**
 * A decoded `Share`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type Share = typeof Share.Type

/**
 * A figure with its unit and the share of the portfolio it was computed on.
 *
 * @since 0.1.0
 */
export const Figure = Schema.Struct({ value: Schema.Number, unit: Schema.String, coverage: Share })
/**
 * A decoded `Figure`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type Figure = typeof Figure.Type

const Attributed = Schema.Struct({ ...Figure.fields, attribution: Schema.String })

/**
 * The portfolio's score: the weighted average of its scored holdings' scores, with its 90 % interval (null when
 * no Monte Carlo draws were made); or why it was withheld.
 *
 * @since 0.1.0
 */
export const PortfolioScore = Schema.Union(
  Schema.Struct({
    value: Schema.Number,
    rating: Rating,
    interval: Schema.NullOr(Schema.Struct({ low: Schema.Number, high: Schema.Number })),
    coverage: Share
  }),
  Schema.Struct({ withheld: Schema.String })
)
/**
 * A decoded `PortfolioScore`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type PortfolioScore = typeof PortfolioScore.Type

/**
 * One holding's part in the portfolio's carbon intensity: its intensity (tCO2e per $M revenue), its contribution
 * (its weight over the covered weight times its intensity) and its share of the WACI (0–1).
 *
 * @since 0.1.0
 */
export const Contributor = Schema.Struct({
  ticker: Schema.String,
  name: Schema.String,
  weight: Fraction,
  intensity: Schema.Number,
  contribution: Schema.Number,
  share: Fraction
})
/**
 * A decoded `Contributor`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type Contributor = typeof Contributor.Type

/**
 * The same holdings' figures in an earlier run a store kept: when (ISO 8601), the WACI, the score and its rating
 * (null when withheld), the coverage by weight.
 *
 * @since 0.1.0
 */
export const PreviousRun = Schema.Struct({
  at: Schema.String,
  waci: Schema.NullOr(Schema.Number),
  score: Schema.NullOr(Schema.Number),
  rating: Schema.NullOr(Rating),
  coverage: Schema.Number
})

/**
 * What a later run compares with: `figures`' WACI, score, rating and coverage, as kept `at` (ISO 8601).
 *
 * @since 0.1.0
 */
export const previousRunOf = (
  figures: Pick<PortfolioFigures, "waci" | "score" | "coverage">,
  at: string
): typeof PreviousRun.Type => ({
  at,
  waci: figures.waci?.value ?? null,
  score: "withheld" in figures.score ? null : figures.score.value,
  rating: "withheld" in figures.score ? null : figures.score.rating,
  coverage: figures.coverage.weight
})

/**
 * The figures of a portfolio, as the JSON report's `portfolio` object carries them: the basis and the weights'
 * sum as read; the coverage (scored, cached, and skipped by reason); the WACI (Σ wᵢ × (scope 1 + 2)ᵢ / revenueᵢ
 * over the scored holdings); financed emissions (Σ (valueᵢ / market capᵢ) × (scope 1 + 2)ᵢ) and the footprint
 * (that over the covered value in $M), with values only; the score; the rating mix by weight (leaders AAA and AA,
 * average A to BB, laggards B and CCC); the sectors; the ten largest contributors to the WACI; the five
 * lowest-rated holdings.
 *
 * @since 0.1.0
 */
export const PortfolioJson = Schema.Struct({
  basis: Schema.Literal("percent", "fraction", "value", "equal"),
  weightSum: Schema.Number,
  holdings: Schema.NonNegativeInt,
  coverage: Schema.Struct({
    ...Share.fields,
    cached: Share,
    skipped: Schema.Record({ key: Schema.String, value: Share })
  }),
  waci: Schema.NullOr(Figure),
  financedEmissions: Schema.NullOr(Attributed),
  carbonFootprint: Schema.NullOr(Attributed),
  score: PortfolioScore,
  ratingMix: Schema.Struct({
    ratings: Schema.Record({ key: Rating, value: Fraction }),
    leaders: Fraction,
    average: Fraction,
    laggards: Fraction,
    unrated: Schema.Number
  }),
  sectors: Schema.Array(Schema.Struct({
    sector: Schema.String,
    weight: Fraction,
    score: Schema.NullOr(Schema.Number),
    waciContribution: Schema.Number
  })),
  topContributors: Schema.Array(Contributor),
  /** The holdings' data quality on the PCAF scale (1 best, 5 worst), weighted over the scored holdings, and each grade's share of the weight. */
  dataQuality: Schema.NullOr(Schema.Struct({
    value: Schema.Number,
    unit: Schema.String,
    coverage: Share,
    grades: Schema.Record({ key: Schema.String, value: Fraction })
  })),
  /** The same holdings' figures in the newest run before this one that a store kept: when, WACI, score, coverage. */
  previousRun: Schema.optionalWith(Schema.NullOr(PreviousRun), { exact: true }),
  lowestRated: Schema.Array(Schema.Struct({
    ticker: Schema.String,
    name: Schema.String,
    rating: Rating,
    value: Schema.Number,
    weight: Fraction
  }))
})
/**
 * A decoded `PortfolioJson`: the figures of a portfolio.
 *
 * @since 0.1.0
 */
export type PortfolioFigures = typeof PortfolioJson.Type

/**
 * The attribution the universe allows: it has market capitalisation, not EVIC.
 *
 * @since 0.1.0
 */
export const ATTRIBUTION = "market capitalisation (the universe has no EVIC)"

/**
 * The share of the weight under which the portfolio's score is withheld, by default.
 *
 * @since 0.1.0
 */
export const DEFAULT_MIN_COVERAGE = 0.65

/** The holdings the report names: one per company (positions of the same company added up), in first-seen order. */
interface Holding {
  readonly key: string
  readonly input: string
  readonly amount: number
  readonly weight: number
}

const holdingsOf = (holdings: Holdings): { readonly list: ReadonlyArray<Holding>; readonly sum: number } => {
  const amounts = new Map<string, { input: string; amount: number }>()
  for (const position of holdings.positions) {
    const key = position.ticker ?? `input:${position.input}`
    const seen = amounts.get(key)
    if (seen === undefined) amounts.set(key, { input: position.input, amount: position.amount })
    else seen.amount += position.amount
  }
  let sum = 0
  for (const { amount } of amounts.values()) sum += amount
  const list = [...amounts].map(([key, { amount, input }]) => ({
    key,
    input,
    amount,
    weight: sum > 0 ? amount / sum : 1 / amounts.size
  }))
  return { list, sum }
}

/**
 * The fingerprint of a portfolio's holdings: the same companies at the same weights give the same one, in any
 * order, whatever the scale the weights were given in.
 *
 * @since 0.1.0
 */
export const holdingsKey = (holdings: Holdings): string => {
  const { list } = holdingsOf(holdings)
  return list
    .map((holding) => `${holding.key}=${holding.weight.toFixed(9)}`)
    .sort()
    .join(";")
}

/**
 * Each holding's normalised weight, by ticker (or by what was typed, for a company not in the universe).
 *
 * @since 0.1.0
 */
export const weightsOf = (holdings: Holdings): ReadonlyMap<string, number> =>
  new Map(holdingsOf(holdings).list.map((holding) => [holding.key, holding.weight]))

/**
 * The key a company's weight is found under in `weightsOf`: its ticker, or what was typed.
 *
 * @since 0.1.0
 */
export const keyOf = (outcome: CompanyOutcome): string => outcome.ticker ?? `input:${outcome.input}`

const sumOf = (values: Iterable<number>): number => {
  let sum = 0
  for (const value of values) sum += value
  return sum
}

/**
 * The portfolio's figures. `draws`, when given, gives each scored holding's Monte Carlo draws of its score (the
 * same count for each): the portfolio's 90 % interval is read off their weighted sums, draw by draw.
 *
 * @since 0.1.0
 */
export const portfolioFigures = (
  holdings: Holdings,
  outcomes: ReadonlyArray<CompanyOutcome>,
  options: {
    readonly minCoverage?: number | undefined
    readonly draws?: ((scored: Scored) => Float64Array) | undefined
  } = {}
): PortfolioFigures => {
  const { list, sum } = holdingsOf(holdings)
  const byKey = new Map<string, CompanyOutcome>()
  for (const outcome of outcomes) if (!byKey.has(keyOf(outcome))) byKey.set(keyOf(outcome), outcome)
  const count = list.length
  const share = (part: ReadonlyArray<Holding>): Share => ({
    weight: sumOf(part.map((holding) => holding.weight)),
    holdings: count === 0 ? 0 : part.length / count
  })

  const scored: Array<{ readonly holding: Holding; readonly outcome: Scored }> = []
  const skipped = new Map<string, Array<Holding>>()
  for (const holding of list) {
    const outcome = byKey.get(holding.key)
    if (outcome?._tag === "Scored") scored.push({ holding, outcome })
    else {
      const reason = outcome === undefined ? "not-run" : reasonCode(outcome.reason)
      const same = skipped.get(reason)
      if (same === undefined) skipped.set(reason, [holding])
      else same.push(holding)
    }
  }
  const covered = share(scored.map((s) => s.holding))
  const within = covered.weight
  const intensityOf = (outcome: Scored) => carbonIntensity(outcome.fundamentals.revenueUsdM, outcome.emissions)

  const contributions = scored.map(({ holding, outcome }) => ({
    holding,
    outcome,
    intensity: intensityOf(outcome),
    contribution: (holding.weight / within) * intensityOf(outcome)
  }))
  const waciValue = sumOf(contributions.map((c) => c.contribution))
  const waci: Figure | null = scored.length === 0 ? null : { value: waciValue, unit: "tCO2e/$M revenue", coverage: covered }

  // with values: each holding owns value / market cap of its company's emissions
  const valued = holdings.basis === "value" && scored.length > 0
  const financed = valued
    ? sumOf(scored.map(({ holding, outcome }) => (holding.amount / outcome.fundamentals.marketCapUsd) * (outcome.emissions.scope1Tco2e + outcome.emissions.scope2Tco2e)))
    : 0
  const coveredValueM = sumOf(scored.map(({ holding }) => holding.amount)) / 1e6
  const financedEmissions = valued ? { value: financed, unit: "tCO2e", attribution: ATTRIBUTION, coverage: covered } : null
  const carbonFootprint = valued && coveredValueM > 0
    ? { value: financed / coveredValueM, unit: "tCO2e/$M invested", attribution: ATTRIBUTION, coverage: covered }
    : null

  const minimum = options.minCoverage ?? DEFAULT_MIN_COVERAGE
  const percent = (x: number) => `${(x * 100).toFixed(1)} %`
  const score: PortfolioScore = scored.length === 0
    ? { withheld: "no holding was scored" }
    : within < minimum
    ? { withheld: `the scored holdings hold ${percent(within)} of the weight, under the ${percent(minimum)} minimum` }
    : (() => {
      const value = sumOf(scored.map(({ holding, outcome }) => (holding.weight / within) * outcome.score.value))
      return { value, rating: ratingOf(value), interval: intervalOf(scored, within, options.draws), coverage: covered }
    })()

  const byRating = Object.fromEntries(ratings.map((rating) => [rating, 0])) as Record<Rating, number>
  for (const { holding, outcome } of scored) byRating[outcome.score.rating] += holding.weight
  const ratingMix = {
    ratings: byRating,
    leaders: byRating.AAA + byRating.AA,
    average: byRating.A + byRating.BBB + byRating.BB,
    laggards: byRating.B + byRating.CCC,
    unrated: 1 - within
  }

  const sectorsSeen = new Map<string, { weight: number; scoreSum: number; waci: number }>()
  for (const c of contributions) {
    const sector = c.outcome.fundamentals.sector
    const entry = sectorsSeen.get(sector) ?? { weight: 0, scoreSum: 0, waci: 0 }
    entry.weight += c.holding.weight
    entry.scoreSum += c.holding.weight * c.outcome.score.value
    entry.waci += c.contribution
    sectorsSeen.set(sector, entry)
  }
  const sectors = [...sectorsSeen]
    .map(([sector, entry]) => ({ sector, weight: entry.weight, score: entry.weight > 0 ? entry.scoreSum / entry.weight : null, waciContribution: entry.waci }))
    .sort((a, b) => b.weight - a.weight || (a.sector < b.sector ? -1 : 1))

  const topContributors = [...contributions]
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, 10)
    .map((c) => ({
      ticker: c.outcome.ticker,
      name: c.outcome.fundamentals.name,
      weight: c.holding.weight,
      intensity: c.intensity,
      contribution: c.contribution,
      share: waciValue > 0 ? c.contribution / waciValue : 0
    }))

  const lowestRated = [...scored]
    .sort((a, b) => a.outcome.score.value - b.outcome.score.value)
    .slice(0, 5)
    .map(({ holding, outcome }) => ({
      ticker: outcome.ticker,
      name: outcome.fundamentals.name,
      rating: outcome.score.rating,
      value: outcome.score.value,
      weight: holding.weight
    }))

  const grades: Record<string, number> = { "1": 0, "2": 0, "3": 0, "4": 0, "5": 0 }
  for (const { holding, outcome } of scored) grades[String(pcafGrade(outcome.emissions))]! += holding.weight
  const dataQuality = scored.length === 0 ? null : {
    value: sumOf(scored.map(({ holding, outcome }) => (holding.weight / within) * pcafGrade(outcome.emissions))),
    unit: "PCAF score, 1 (reported, verified) to 5 (estimated from sector averages)",
    coverage: covered,
    grades
  }

  return {
    basis: holdings.basis,
    weightSum: holdings.basis === "equal" ? count : sum,
    holdings: count,
    coverage: {
      ...covered,
      cached: share(scored.filter((s) => s.outcome.cachedAt !== undefined).map((s) => s.holding)),
      skipped: Object.fromEntries([...skipped].map(([reason, part]) => [reason, share(part)]))
    },
    waci,
    financedEmissions,
    carbonFootprint,
    score,
    ratingMix,
    sectors,
    topContributors,
    dataQuality,
    lowestRated
  }
}

/** The 5th and 95th percentiles of the weighted sums of the holdings' draws, draw by draw; null without draws. */
const intervalOf = (
  scored: ReadonlyArray<{ readonly holding: Holding; readonly outcome: Scored }>,
  within: number,
  draws: ((scored: Scored) => Float64Array) | undefined
): { readonly low: number; readonly high: number } | null => {
  if (draws === undefined) return null
  let sums: Float64Array | undefined
  for (const { holding, outcome } of scored) {
    const own = draws(outcome)
    if (own.length === 0) return null
    sums ??= new Float64Array(own.length)
    if (own.length !== sums.length) return null
    const w = holding.weight / within
    for (let k = 0; k < own.length; k++) sums[k]! += w * own[k]!
  }
  if (sums === undefined) return null
  const sorted = Float64Array.from(sums).sort()
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!
  return { low: at(0.05), high: at(0.95) }
}

/**
 * What a report adds for a portfolio: its figures, each holding's weight (by `keyOf`), and each ticker's previous
 * stored score (null: none before this one).
 *
 * @since 0.1.0
 */
export interface PortfolioView {
  readonly figures: PortfolioFigures
  /** Where the run's data came from (never a key), and where cached scores were kept: each holding's provenance. */
  readonly sources: Readonly<Record<"fundamentals" | "emissions" | "governance", string>>
  readonly cache: string
  readonly weights: ReadonlyMap<string, number>
  readonly previous: ReadonlyMap<string, { readonly rating: Rating; readonly value: number; readonly scoredAt: number } | null>
}
