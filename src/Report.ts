/**
 * Rendering of a run's report: a table for people, one JSON document for
 * programs, CSV for spreadsheets (through csv-stringify, text cells guarded
 * against formula injection), and NDJSON, one line per company as it
 * completes, then a summary line.
 *
 * @since 0.1.0
 */
import { stringify } from "csv-stringify/sync"
import { type Effect, type ParseResult, Schema, Struct } from "effect"
import type { RunReport, RunSummary } from "./Summary.js"
import { LOCAL_PERMITS } from "./ApiGate.js"
import {
  type CompanyOutcome,
  EmissionData,
  FundamentalsData,
  GovernanceDeduction,
  GovernanceRating,
  pcafGrade,
  PillarWeights,
  Rating,
  ratings,
  reasonCode,
  reasonText,
  Score,
  type Scored,
  ScoreInterval,
  type Skipped,
  Source,
  Ticker
} from "./Domain.js"
import { green, red, type Style, yellow } from "./internal/Ansi.js"
import { formatSeconds } from "./internal/DurationText.js"
import { keyOf, type PortfolioFigures, PortfolioJson, type PortfolioView } from "./Portfolio.js"

/**
 * A report's format: a table for people, one JSON document, CSV for spreadsheets, NDJSON (a line per company), or
 * one HTML page (`HtmlReport`).
 *
 * @since 0.1.0
 */
export type Format = TextFormat | "html"
/**
 * The formats `render` writes: all but the HTML page, which is drawn by `HtmlReport.renderHtml`.
 *
 * @since 0.1.0
 */
export type TextFormat = "table" | "json" | "csv" | "ndjson"
/**
 * Every format, in the order `--help` lists them.
 *
 * @since 0.1.0
 */
export const formats: ReadonlyArray<Format> = ["table", "json", "csv", "ndjson", "html"]

// ---------------------------------------------------------------------------
// The JSON report's shape: the schemas below are its types and its decoder
// ---------------------------------------------------------------------------

/**
 * A company's previous stored score: its rating and value, and when it was computed (ISO 8601).
 *
 * @since 0.1.0
 */
export const PreviousJson = Schema.Struct({ rating: Rating, value: Schema.Number, computedAt: Schema.String })

/**
 * Where a company's data came from: each source's origin (a database file, a provider's URL, `simulated`; never a
 * key), the emissions' reporting year, and when the data was fetched, or, for a cached score, when it was
 * computed and where it was kept.
 *
 * @since 0.1.0
 */
export const ProvenanceJson = Schema.Struct({
  fundamentals: Schema.String,
  emissions: Schema.String,
  governance: Schema.String,
  reportingYear: Schema.optionalWith(Schema.Number, { exact: true }),
  fetchedAt: Schema.optionalWith(Schema.String, { exact: true }),
  cachedIn: Schema.optionalWith(Schema.String, { exact: true }),
  computedAt: Schema.optionalWith(Schema.String, { exact: true })
})

/** What the command line's report adds to each company: its weight (0–1), previous score, data quality, provenance. */
const HoldingFields = {
  weight: Schema.optionalWith(Schema.Number, { exact: true }),
  previous: Schema.optionalWith(Schema.NullOr(PreviousJson), { exact: true }),
  dataQuality: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 5)), { exact: true }),
  provenance: Schema.optionalWith(ProvenanceJson, { exact: true })
}

/**
 * The JSON shape of a scored company: the domain's fields (and their checks),
 * flattened where the report flattens them. Key order is output order.
 *
 * @since 0.1.0
 */
export const ScoredJson = Schema.Struct({
  input: Schema.String,
  ticker: Ticker,
  status: Schema.Literal("scored"),
  ...Struct.pick(FundamentalsData.fields, "name", "sector", "marketCapUsd", "revenueUsdM"),
  emissions: Schema.Struct(EmissionData.fields).omit("ticker"),
  governance: Schema.Struct({
    score: GovernanceRating.fields.score,
    deductions: Schema.Array(Schema.Struct(GovernanceDeduction.fields))
  }),
  /** Whether the score was reused from a cache instead of computed by this run. */
  cached: Schema.Boolean,
  /** When a cached score was computed (ISO 8601). */
  cachedAt: Schema.optionalWith(Schema.String, { exact: true }),
  /** Present (true) when the company was scored in the second pass. */
  secondPass: Schema.optionalWith(Schema.Literal(true), { exact: true }),
  score: Schema.Struct({
    ...Score.fields,
    weights: Schema.Struct(PillarWeights.fields),
    interval: Schema.Struct(ScoreInterval.fields)
  }),
  ...HoldingFields
})
/**
 * A decoded `ScoredJson`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type ScoredJson = typeof ScoredJson.Type

/**
 * The JSON shape of a skipped company: why, and what never arrived.
 *
 * @since 0.1.0
 */
export const SkippedJson = Schema.Struct({
  input: Schema.String,
  /** Null for a company that is not in the universe. */
  ticker: Schema.NullOr(Ticker),
  status: Schema.Literal("skipped"),
  /** The reason as text, as the table prints it. */
  reason: Schema.String,
  /** A stable code per kind of skip: data-incomplete, unknown-company, provider-failed, scoring-failed, internal-error. */
  reasonCode: Schema.String,
  missing: Schema.Array(Source),
  detail: Schema.optionalWith(Schema.String, { exact: true }),
  /** Present (true) when the company was skipped again in the second pass. */
  secondPass: Schema.optionalWith(Schema.Literal(true), { exact: true }),
  ...HoldingFields
})
/**
 * A decoded `SkippedJson`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type SkippedJson = typeof SkippedJson.Type

/**
 * The JSON shape of one company, told apart by `status`.
 *
 * @since 0.1.0
 */
export const CompanyJson = Schema.Union(ScoredJson, SkippedJson)
/**
 * A decoded `CompanyJson`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type CompanyJson = typeof CompanyJson.Type

const Count = Schema.NonNegativeInt
const Millis = Schema.NonNegative
const PerExternalSource = Schema.Record({ key: Source.pipe(Schema.pickLiteral("emissions", "governance")), value: Count })

/**
 * The JSON shape of the run's summary: the `RunSummary` the run made, field for field.
 *
 * @since 0.1.0
 */
export const SummaryJson = Schema.Struct({
  requested: Count,
  scored: Count,
  skipped: Count,
  cacheSize: Count,
  elapsedMs: Millis,
  apiCalls: Count,
  maxApiCallsInFlight: Count,
  apiConcurrency: Count,
  schedule: Schema.Literal("fifo", "eager"),
  timeoutMs: Millis,
  /** Where each source's data came from (`simulated`, a database path, a base URL). */
  sources: Schema.Record({ key: Source, value: Schema.String }),
  /** Where the scores were computed: `main thread` or `worker threads`. */
  scoring: Schema.String,
  cached: Count,
  /** Where scores persist across runs: a file path, or `none`. */
  cache: Schema.String,
  metrics: Schema.Struct({
    apiCalls: PerExternalSource,
    apiLatencyMeanMs: PerExternalSource,
    retries: Count,
    timeouts: Count,
    turnsAgain: Count,
    cacheHits: Count
  }),
  partial: Schema.Boolean,
  /** Whose permits the calls held: `this process`, or where a team's are held. */
  gate: Schema.String,
  longestPermitWaitMs: Millis,
  /** Why the gate could grant no more permits, when that ended the run. */
  gateLost: Schema.optionalWith(Schema.String, { exact: true }),
  secondPass: Count
})
/**
 * A decoded `SummaryJson`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type SummaryJson = typeof SummaryJson.Type

/**
 * The JSON report: one entry per company in input order, then the summary.
 *
 * @since 0.1.0
 */
export const ReportJson = Schema.Struct({
  companies: Schema.Array(CompanyJson),
  summary: SummaryJson,
  /** The portfolio's figures (`Portfolio`), in the command line's reports. */
  portfolio: Schema.optionalWith(PortfolioJson, { exact: true })
})
/**
 * A decoded `ReportJson`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type ReportJson = typeof ReportJson.Type

/**
 * Decodes a kept JSON report (the text `--format json` wrote), checking every field.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Report } from "esg-aggregator"
 *
 * // the CCC-rated companies of a report kept as text (read from a file, say)
 * export const laggards = (kept: string) =>
 *   Effect.map(
 *     Report.decodeReportJson(kept),
 *     (report) => report.companies.filter((company) => company.status === "scored" && company.score.rating === "CCC")
 *   )
 * ```
 *
 * @since 0.1.0
 */
export const decodeReportJson: (text: string) => Effect.Effect<ReportJson, ParseResult.ParseError> = Schema.decode(
  Schema.parseJson(ReportJson)
)

/**
 * `decodeReportJson`, synchronously: throws the `ParseError`.
 *
 * @since 0.1.0
 */
export const decodeReportJsonSync: (text: string) => ReportJson = Schema.decodeSync(Schema.parseJson(ReportJson))

/** A company's weight and previous score, when the report is a portfolio's. */
const holdingOf = (outcome: CompanyOutcome, view: PortfolioView | undefined) => {
  if (view === undefined) return {}
  const previous = outcome.ticker === null ? undefined : view.previous.get(outcome.ticker)
  const iso = (ms: number) => new Date(ms).toISOString()
  const scored = outcome._tag === "Scored" ? outcome : undefined
  return {
    weight: view.weights.get(keyOf(outcome)) ?? 0,
    previous: previous == null ? null : { rating: previous.rating, value: previous.value, computedAt: iso(previous.scoredAt) },
    ...(scored === undefined ? {} : {
      dataQuality: pcafGrade(scored.emissions),
      provenance: {
        ...view.sources,
        // a cached score's provider data came with it, from the run that computed it
        ...(scored.cachedAt === undefined ? {} : { emissions: `cached in ${view.cache}`, governance: `cached in ${view.cache}` }),
        reportingYear: scored.emissions.reportingYear,
        ...(scored.fetchedAt === undefined ? {} : { fetchedAt: iso(scored.fetchedAt) }),
        ...(scored.cachedAt === undefined ? {} : { cachedIn: view.cache, computedAt: iso(scored.cachedAt) })
      }
    })
  }
}

const scoredJson = (o: Scored, view: PortfolioView | undefined): ScoredJson => ({
  input: o.input,
  ticker: o.ticker,
  status: "scored",
  name: o.fundamentals.name,
  sector: o.fundamentals.sector,
  marketCapUsd: o.fundamentals.marketCapUsd,
  revenueUsdM: o.fundamentals.revenueUsdM,
  emissions: {
    scope1Tco2e: o.emissions.scope1Tco2e,
    scope2Tco2e: o.emissions.scope2Tco2e,
    uncertaintyPct: o.emissions.uncertaintyPct,
    reportingYear: o.emissions.reportingYear,
    ...(o.emissions.basis === undefined ? {} : { basis: o.emissions.basis })
  },
  governance: {
    score: o.governance.score,
    deductions: o.governance.deductions.map((d) => ({ keyIssue: d.keyIssue, points: d.points }))
  },
  cached: o.cachedAt !== undefined,
  ...(o.cachedAt === undefined ? {} : { cachedAt: new Date(o.cachedAt).toISOString() }),
  ...(o.secondPass === true ? { secondPass: true } : {}),
  score: {
    value: o.score.value,
    rating: o.score.rating,
    environmental: o.score.environmental,
    governance: o.score.governance,
    weights: { environmental: o.score.weights.environmental, governance: o.score.weights.governance },
    weightedAverage: o.score.weightedAverage,
    interval: { low: o.score.interval.low, high: o.score.interval.high },
    stability: o.score.stability,
    samples: o.score.samples
  },
  ...holdingOf(o, view)
})

const skippedJson = (o: Skipped, view: PortfolioView | undefined): SkippedJson => ({
  input: o.input,
  ticker: o.ticker,
  status: "skipped",
  reason: reasonText(o.reason),
  reasonCode: reasonCode(o.reason),
  missing: o.missing,
  ...(o.detail === undefined ? {} : { detail: o.detail }),
  ...(o.secondPass === true ? { secondPass: true } : {}),
  ...holdingOf(o, view)
})

/**
 * A company's outcome as the JSON report writes it; with a portfolio's `view`, its weight and previous score too.
 *
 * @since 0.1.0
 */
export const companyJson = (outcome: CompanyOutcome, view?: PortfolioView): CompanyJson =>
  outcome._tag === "Scored" ? scoredJson(outcome, view) : skippedJson(outcome, view)

/**
 * The JSON report of a run, as a value (the summary is written as the run made it).
 *
 * @since 0.1.0
 */
export const toJson = (report: RunReport, view?: PortfolioView): ReportJson => ({
  companies: report.outcomes.map((outcome) => companyJson(outcome, view)),
  summary: report.summary,
  ...(view === undefined ? {} : { portfolio: view.figures })
})

/**
 * Exactly one JSON document, newline-terminated.
 *
 * @since 0.1.0
 */
export const renderJson = (report: RunReport, view?: PortfolioView): string => Array.from(renderJsonChunks(report, view)).join("")

const COMPANIES_PER_CHUNK = 512

/**
 * The JSON report of `renderJson`, in pieces of a few hundred companies, each ending a line: a report of 200,000
 * companies is written without building its whole text, or all its companies' JSON values, at once.
 *
 * @since 0.1.0
 */
export const renderJsonChunks = function*(report: RunReport, view?: PortfolioView): Generator<string> {
  // the document with no companies, whose list is then written in their place (the first key, so `[]` is its first)
  const skeleton = JSON.stringify(toJson({ ...report, outcomes: [] }, view), null, 2) + "\n"
  if (report.outcomes.length === 0) return yield skeleton
  const open = skeleton.indexOf("[]")
  yield skeleton.slice(0, open + 1) + "\n"
  for (let from = 0; from < report.outcomes.length; from += COMPANIES_PER_CHUNK) {
    const last = Math.min(from + COMPANIES_PER_CHUNK, report.outcomes.length)
    const lines: Array<string> = []
    for (let i = from; i < last; i++) {
      const text = JSON.stringify(companyJson(report.outcomes[i]!, view), null, 2).replaceAll("\n", "\n    ")
      lines.push(`    ${text}${i === report.outcomes.length - 1 ? "" : ","}\n`)
    }
    yield lines.join("")
  }
  yield "  ]" + skeleton.slice(open + 2)
}

const usd = (value: number): string => {
  const units: ReadonlyArray<readonly [number, string]> = [[1e12, "T"], [1e9, "B"], [1e6, "M"]]
  for (const [size, suffix] of units) {
    if (value >= size) return `$${(value / size).toFixed(2)}${suffix}`
  }
  return `$${value.toFixed(0)}`
}

const tonnes = (value: number): string =>
  value >= 1e6 ? `${(value / 1e6).toFixed(2)}Mt` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}kt` : `${value.toFixed(0)}t`

/** How the table marks an outcome of the second pass. */
const SECOND_PASS = "2nd pass"

/** A table column: its header, and its cell for a scored company and for a skipped one (blank unless given). */
interface TableColumn {
  readonly header: string
  readonly scored: (outcome: Scored) => string
  readonly skipped?: (outcome: Skipped) => string
}

const scoreText = (score: Score): string => `${score.value.toFixed(2)} ${score.rating}`

/** Why a company was skipped, in one cell that runs on across the score columns. */
const skipText = (outcome: Skipped): string => {
  const unknown = outcome.reason._tag === "NotInUniverse"
  const missing = outcome.missing.length > 0 && !unknown ? ` (missing ${outcome.missing.join(", ")})` : ""
  const detail = unknown && outcome.detail !== undefined ? ` (${outcome.detail})` : ""
  const again = outcome.secondPass === true ? ` (${SECOND_PASS})` : ""
  return `skipped: ${reasonText(outcome.reason)}${missing}${detail}${again}`
}

const tableColumns: ReadonlyArray<TableColumn> = [
  // the ticker once: an input that is the ticker leaves the name blank; an unknown company has no ticker
  { header: "Ticker", scored: (o) => o.ticker, skipped: (o) => o.ticker ?? "-" },
  { header: "Name", scored: (o) => o.fundamentals.name, skipped: (o) => (o.input.trim().toUpperCase() === o.ticker ? "" : o.input) },
  { header: "Sector", scored: (o) => o.fundamentals.sector },
  { header: "Market cap", scored: (o) => usd(o.fundamentals.marketCapUsd) },
  { header: "Scope 1+2", scored: (o) => tonnes(o.emissions.scope1Tco2e + o.emissions.scope2Tco2e) },
  { header: "E", scored: (o) => o.score.environmental.toFixed(1) },
  { header: "G", scored: (o) => o.score.governance.toFixed(1) },
  { header: "Score", scored: (o) => scoreText(o.score), skipped: skipText },
  {
    header: "90% interval",
    scored: ({ score }) => (score.samples === 0 ? "-" : `${score.interval.low.toFixed(2)}-${score.interval.high.toFixed(2)}`)
  },
  { header: "Holds", scored: ({ score }) => (score.samples === 0 ? "-" : `${(score.stability * 100).toFixed(0)}%`) },
  { header: "", scored: (o) => (o.cachedAt !== undefined ? "cached" : o.secondPass === true ? SECOND_PASS : "") }
]

/** The colour of a rating: MSCI's leaders (AAA, AA), average (A to BB) and laggards (B, CCC). */
const ratingStyle = (rating: string): Style =>
  rating === "AAA" || rating === "AA" ? green : rating === "B" || rating === "CCC" ? red : yellow

/**
 * A plain-text table with one row per company, then the summary. With
 * `color` (only for a terminal that allows it), ratings are coloured.
 *
 * @since 0.1.0
 */
export const renderTable = (report: RunReport, options: { readonly color?: boolean } = {}): string => {
  const header = tableColumns.map((column) => column.header)
  const rows = report.outcomes.map((outcome) => ({
    outcome,
    cells: tableColumns.map((column) => outcome._tag === "Scored" ? column.scored(outcome) : column.skipped?.(outcome) ?? "")
  }))
  // only the header and scored rows set the widths: a skipped row's reason runs on across the score columns
  const widths = header.map((title, column) =>
    rows.reduce((widest, row) => row.outcome._tag === "Scored" ? Math.max(widest, row.cells[column]!.length) : widest, title.length)
  )
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()
  // the colour goes around the rating once the cell is padded: escape codes take no room on screen
  const coloured = (outcome: CompanyOutcome, text: string) => {
    if (options.color !== true || outcome._tag !== "Scored") return text
    const { rating, value } = outcome.score
    return text.replace(scoreText(outcome.score), `${value.toFixed(2)} ${ratingStyle(rating)(rating)}`)
  }
  const s = report.summary
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  ").trimEnd(),
    ...rows.map((row) => coloured(row.outcome, line(row.cells))),
    "",
    "E, G: environmental and governance pillars (0-10). Score: industry-adjusted (0-10) and rating.",
    "90% interval and Holds: Monte Carlo under input uncertainty; Holds is the chance the rating holds.",
    "",
    ...(s.partial
      ? [
        s.gateLost === undefined
          ? "Partial report: the run was stopped; the companies above are those that finished."
          : `Partial report: ${s.gateLost}; the companies above are those that finished.`
      ]
      : []),
    ...(s.cached > 0 ? [`Cached: ${s.cached} ${s.cached === 1 ? "score" : "scores"} reused from ${s.cache}, without any API call`] : []),
    ...(s.secondPass > 0
      ? [`Second pass: ${s.secondPass} companies skipped for a transient reason were tried again, ${
        report.outcomes.filter((o) => o.secondPass === true && o._tag === "Scored").length
      } scored`]
      : []),
    `Scored ${s.scored} of ${s.requested}, skipped ${s.skipped}; cache size ${s.cacheSize}; total time ${
      (s.elapsedMs / 1000).toFixed(2)
    } s`,
    `API calls ${s.apiCalls}, at most ${s.maxApiCallsInFlight} in flight (limit ${s.apiConcurrency}); schedule ${s.schedule}, deadline ${
      formatSeconds(s.timeoutMs)
    } s`,
    ...(s.gate === LOCAL_PERMITS
      ? []
      : [`Team gate: ${s.gate}; longest wait for a permit ${formatSeconds(s.longestPermitWaitMs)} s`]),
    `Sources: fundamentals ${s.sources.fundamentals}, emissions ${s.sources.emissions}, governance ${s.sources.governance}; scoring on ${s.scoring}`,
    ""
  ].join("\n")
}

const percentText = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`
const shareText = (share: { readonly weight: number; readonly holdings: number }, holdings: number): string =>
  `${percentText(share.weight)} of the weight, ${Math.round(share.holdings * holdings)} of ${holdings} holdings`

const basisText = (figures: PortfolioFigures): string =>
  figures.basis === "equal"
    ? "every holding weighs the same (no weight or value column)"
    : figures.basis === "value"
    ? `weighed by value: $${figures.weightSum.toLocaleString("en-US", { maximumFractionDigits: 0 })} in all`
    : `weights read as ${figures.basis === "percent" ? "percentages" : "fractions"}, summing to ${
      figures.basis === "percent" ? `${figures.weightSum.toFixed(2)} %` : figures.weightSum.toFixed(4)
    }${Math.abs(figures.weightSum - (figures.basis === "percent" ? 100 : 1)) > 1e-9 ? " (normalised to 100 %)" : ""}`

/**
 * The portfolio section a table ends with: its figures, each with the share of the portfolio it covers, and the
 * holdings whose rating moved since their previous stored score.
 *
 * @since 0.1.0
 */
export const renderPortfolio = (report: RunReport, view: PortfolioView): string => {
  const f = view.figures
  const n = f.holdings
  const score = "withheld" in f.score
    ? `withheld: ${f.score.withheld}`
    : `${f.score.value.toFixed(2)} ${f.score.rating}${
      f.score.interval === null ? "" : ` (90% interval ${f.score.interval.low.toFixed(2)}-${f.score.interval.high.toFixed(2)})`
    }, on ${shareText(f.score.coverage, n)}`
  const skipped = Object.entries(f.coverage.skipped).map(([reason, share]) => `${reason} ${shareText(share, n)}`)
  const changes = report.outcomes.flatMap((outcome) => {
    if (outcome._tag !== "Scored") return []
    const previous = view.previous.get(outcome.ticker)
    if (previous === undefined) return []
    if (previous === null) return [`  ${outcome.ticker}: new, ${outcome.score.rating}`]
    if (previous.rating === outcome.score.rating) return []
    const up = ratings.indexOf(outcome.score.rating) > ratings.indexOf(previous.rating)
    return [`  ${outcome.ticker}: ${up ? "up" : "down"}, ${previous.rating} -> ${outcome.score.rating} (previous score of ${
      new Date(previous.scoredAt).toISOString().slice(0, 10)
    })`]
  })
  // "new" says something only beside holdings that had a score before
  const compared = changes.length > 0 && [...view.previous.values()].some((previous) => previous !== null)
  return [
    "",
    `Portfolio: ${n} holdings; ${basisText(f)}`,
    `  Score        ${score}`,
    `  WACI         ${f.waci === null ? "-" : `${f.waci.value.toFixed(1)} tCO2e/$M revenue, on ${shareText(f.waci.coverage, n)}`}`,
    ...(f.financedEmissions === null ? [] : [
      `  Financed     ${f.financedEmissions.value.toFixed(0)} tCO2e (attributed by ${f.financedEmissions.attribution})`,
      ...(f.carbonFootprint === null ? [] : [`  Footprint    ${f.carbonFootprint.value.toFixed(2)} tCO2e/$M invested`])
    ]),
    `  Coverage     scored ${shareText(f.coverage, n)}; cached ${shareText(f.coverage.cached, n)}${
      skipped.length === 0 ? "" : `; skipped: ${skipped.join(", ")}`
    }`,
    `  Rating mix   ${ratings.slice().reverse().map((rating) => `${rating} ${percentText(f.ratingMix.ratings[rating])}`).join(", ")}`,
    `               leaders ${percentText(f.ratingMix.leaders)}, average ${percentText(f.ratingMix.average)}, laggards ${
      percentText(f.ratingMix.laggards)
    }, unrated ${percentText(f.ratingMix.unrated)}`,
    `  Sectors      ${f.sectors.slice(0, 5).map((s) => `${s.sector} ${percentText(s.weight)}`).join(", ")}${f.sectors.length > 5 ? ", ..." : ""}`,
    ...(f.dataQuality === null ? [] : [
      `  Data quality ${f.dataQuality.value.toFixed(2)} on the PCAF scale (1 reported and verified, 5 sector averages); ${
        Object.entries(f.dataQuality.grades).filter(([, share]) => share > 0).map(([grade, share]) => `${grade}: ${percentText(share)}`).join(", ")
      }`
    ]),
    `  Top WACI     ${f.topContributors.slice(0, 5).map((c) => `${c.ticker} ${percentText(c.share)}`).join(", ")}`,
    `  Lowest       ${f.lowestRated.map((c) => `${c.ticker} ${c.value.toFixed(2)} ${c.rating}`).join(", ")}`,
    ...(f.previousRun == null ? [] : [
      `Since the previous run of these holdings (${f.previousRun.at.slice(0, 10)}): WACI ${
        f.previousRun.waci === null ? "-" : f.previousRun.waci.toFixed(1)
      } -> ${f.waci === null ? "-" : f.waci.value.toFixed(1)}, score ${
        f.previousRun.score === null ? "withheld" : `${f.previousRun.score.toFixed(2)} ${f.previousRun.rating}`
      } -> ${"withheld" in f.score ? "withheld" : `${f.score.value.toFixed(2)} ${f.score.rating}`}, coverage ${percentText(f.previousRun.coverage)} -> ${
        percentText(f.coverage.weight)
      }`
    ]),
    ...(compared ? ["Rating changes since the previous stored score:", ...changes] : []),
    ""
  ].join("\n")
}

/**
 * A text cell a spreadsheet would not run: one starting with `=`, `+`, `-`,
 * `@`, a tab or a carriage return is prefixed with `'`.
 *
 * @since 0.1.0
 */
export const spreadsheetSafe = (text: string): string => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text)

/** A CSV cell; null is an empty one. */
type CsvCell = string | number | boolean | null

/** A CSV column: its header, and its cell for a company as the JSON report has it, in a run that was or was not partial. */
interface CsvColumn {
  readonly header: string
  readonly cell: (company: CompanyJson, partial: boolean, portfolio: PortfolioView | undefined) => CsvCell
}

const text = (value: string | null | undefined): string | null => (value == null ? null : spreadsheetSafe(value))
const ifScored = (cell: (company: ScoredJson) => CsvCell) => (company: CompanyJson): CsvCell =>
  company.status === "scored" ? cell(company) : null
const ifSkipped = (cell: (company: SkippedJson) => CsvCell) => (company: CompanyJson): CsvCell =>
  company.status === "skipped" ? cell(company) : null

/**
 * The CSV columns, in order: a company of the JSON report flattened (`score`
 * is the score's value, `governance` its governance pillar), text guarded
 * against formula injection, and on every row whether the run was partial.
 */
const csvColumns: ReadonlyArray<CsvColumn> = [
  { header: "input", cell: (c) => text(c.input) },
  { header: "ticker", cell: (c) => text(c.ticker) },
  { header: "status", cell: (c) => c.status },
  { header: "name", cell: ifScored((c) => text(c.name)) },
  { header: "sector", cell: ifScored((c) => text(c.sector)) },
  { header: "market_cap_usd", cell: ifScored((c) => c.marketCapUsd) },
  { header: "revenue_usd_m", cell: ifScored((c) => c.revenueUsdM) },
  { header: "scope1_tco2e", cell: ifScored((c) => c.emissions.scope1Tco2e) },
  { header: "scope2_tco2e", cell: ifScored((c) => c.emissions.scope2Tco2e) },
  { header: "score", cell: ifScored((c) => c.score.value) },
  { header: "rating", cell: ifScored((c) => c.score.rating) },
  { header: "environmental", cell: ifScored((c) => c.score.environmental) },
  { header: "governance", cell: ifScored((c) => c.score.governance) },
  { header: "interval_low", cell: ifScored((c) => c.score.interval.low) },
  { header: "interval_high", cell: ifScored((c) => c.score.interval.high) },
  { header: "stability", cell: ifScored((c) => c.score.stability) },
  { header: "samples", cell: ifScored((c) => c.score.samples) },
  { header: "cached", cell: (c) => c.status === "scored" && c.cached },
  { header: "cached_at", cell: ifScored((c) => c.cachedAt ?? null) },
  { header: "reason", cell: ifSkipped((c) => text(c.reason)) },
  { header: "reason_code", cell: ifSkipped((c) => c.reasonCode) },
  { header: "missing", cell: ifSkipped((c) => c.missing.join(";")) },
  { header: "detail", cell: ifSkipped((c) => text(c.detail)) },
  { header: "second_pass", cell: (c) => c.secondPass === true },
  { header: "partial", cell: (_, partial) => partial },
  // a portfolio's report: the holding's normalised weight, and the rating of its previous stored score
  { header: "weight", cell: (c) => c.weight ?? null },
  { header: "previous_rating", cell: (c) => c.previous?.rating ?? null },
  // its part of the WACI: its weight over the scored weight, times its intensity (tCO2e/$M revenue)
  {
    header: "waci_contribution",
    cell: (c, _, view) => {
      const covered = view?.figures.coverage.weight ?? 0
      return c.status !== "scored" || c.weight === undefined || covered === 0
        ? null
        : (c.weight / covered) * (c.emissions.scope1Tco2e + c.emissions.scope2Tco2e) / c.revenueUsdM
    }
  }
]

/**
 * The CSV report's column names, in order: its header row.
 *
 * @since 0.1.0
 */
export const csvHeader: ReadonlyArray<string> = csvColumns.map((column) => column.header)

/**
 * A CSV document: a header, then one row per company (the run's figures are in the JSON summary).
 *
 * @since 0.1.0
 */
export const renderCsv = (report: RunReport, view?: PortfolioView): string => {
  const csvRow = (outcome: CompanyOutcome): ReadonlyArray<CsvCell> => {
    const company = companyJson(outcome, view)
    return csvColumns.map((column) => column.cell(company, report.summary.partial, view))
  }
  return stringify([csvHeader, ...report.outcomes.map(csvRow)], { cast: { boolean: (value) => (value ? "true" : "false") } })
}

/**
 * One NDJSON line for a company, written as it completes.
 *
 * @since 0.1.0
 */
export const ndjsonCompany = (outcome: CompanyOutcome): string => JSON.stringify(companyJson(outcome)) + "\n"

/**
 * The last NDJSON line: the run's summary.
 *
 * @since 0.1.0
 */
export const ndjsonSummary = (summary: RunSummary, view?: PortfolioView): string => {
  const line: { readonly summary: SummaryJson; readonly portfolio?: PortfolioFigures } = view === undefined
    ? { summary }
    : { summary, portfolio: view.figures }
  return JSON.stringify(line) + "\n"
}

/**
 * The portfolio's figures as CSV, one per row (`figure`, `key`, `value`, `unit`, and the share of the weight and of
 * the holdings it covers): for `--portfolio-csv`.
 *
 * @since 0.1.0
 */
export const renderPortfolioCsv = (figures: PortfolioFigures): string => {
  type Row = readonly [string, string, number | string | null, string, number | null, number | null]
  const covered = (figure: { readonly coverage: { readonly weight: number; readonly holdings: number } }) =>
    [figure.coverage.weight, figure.coverage.holdings] as const
  const rows: Array<Row> = [
    ["holdings", "", figures.holdings, "", null, null],
    ["weight_sum", figures.basis, figures.weightSum, figures.basis === "value" ? "USD" : figures.basis === "percent" ? "%" : "", null, null],
    ["coverage", "scored", figures.coverage.weight, "share of weight", figures.coverage.weight, figures.coverage.holdings],
    ["coverage", "cached", figures.coverage.cached.weight, "share of weight", figures.coverage.cached.weight, figures.coverage.cached.holdings],
    ...Object.entries(figures.coverage.skipped).map(([reason, share]): Row => ["coverage", `skipped:${reason}`, share.weight, "share of weight", share.weight, share.holdings])
  ]
  if (figures.waci !== null) rows.push(["waci", "", figures.waci.value, figures.waci.unit, ...covered(figures.waci)])
  if (figures.financedEmissions !== null) {
    rows.push(["financed_emissions", figures.financedEmissions.attribution, figures.financedEmissions.value, figures.financedEmissions.unit, ...covered(figures.financedEmissions)])
  }
  if (figures.carbonFootprint !== null) {
    rows.push(["carbon_footprint", figures.carbonFootprint.attribution, figures.carbonFootprint.value, figures.carbonFootprint.unit, ...covered(figures.carbonFootprint)])
  }
  if ("withheld" in figures.score) rows.push(["score", "withheld", figures.score.withheld, "", null, null])
  else {
    rows.push(["score", figures.score.rating, figures.score.value, "0-10", ...covered(figures.score)])
    if (figures.score.interval !== null) {
      rows.push(["score_interval", "low", figures.score.interval.low, "0-10", ...covered(figures.score)])
      rows.push(["score_interval", "high", figures.score.interval.high, "0-10", ...covered(figures.score)])
    }
  }
  if (figures.dataQuality !== null) rows.push(["data_quality", "", figures.dataQuality.value, "PCAF 1-5", ...covered(figures.dataQuality)])
  for (const rating of ratings) rows.push(["rating_mix", rating, figures.ratingMix.ratings[rating], "share of weight", null, null])
  for (const group of ["leaders", "average", "laggards", "unrated"] as const) rows.push(["rating_mix", group, figures.ratingMix[group], "share of weight", null, null])
  for (const sector of figures.sectors) {
    rows.push(["sector_weight", sector.sector, sector.weight, "share of weight", null, null])
    rows.push(["sector_score", sector.sector, sector.score, "0-10", null, null])
    rows.push(["sector_waci", sector.sector, sector.waciContribution, "tCO2e/$M revenue", null, null])
  }
  for (const top of figures.topContributors) rows.push(["waci_contributor", top.ticker, top.contribution, "tCO2e/$M revenue", null, null])
  for (const low of figures.lowestRated) rows.push(["lowest_rated", low.ticker, low.value, low.rating, null, null])
  const header = ["figure", "key", "value", "unit", "coverage_weight", "coverage_holdings"]
  return stringify([header, ...rows.map((row) => row.map((cell) => (typeof cell === "string" ? spreadsheetSafe(cell) : cell)))])
}

/**
 * The whole report in `format` (for NDJSON, every company's line, then the summary's); `color` styles the table's ratings.
 *
 * @since 0.1.0
 */
export const render = (
  report: RunReport,
  format: TextFormat,
  options: { readonly color?: boolean; readonly portfolio?: PortfolioView | undefined } = {}
): string =>
  format === "json"
    ? renderJson(report, options.portfolio)
    : format === "csv"
    ? renderCsv(report, options.portfolio)
    : format === "ndjson"
    ? report.outcomes.map((outcome) => ndjsonCompany(outcome)).join("") + ndjsonSummary(report.summary, options.portfolio)
    : renderTable(report, options) +
      // a portfolio section for holdings that were weighed (JSON says so for every report)
      (options.portfolio === undefined || options.portfolio.figures.basis === "equal" ? "" : renderPortfolio(report, options.portfolio))
