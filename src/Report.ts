/**
 * Rendering of a run's report: a table for people, one JSON document for
 * programs, CSV for spreadsheets (through csv-stringify, text cells guarded
 * against formula injection), and NDJSON, one line per company as it
 * completes, then a summary line.
 *
 * @since 0.1.0
 */
import { stringify } from "csv-stringify/sync"
import type { RunReport, RunSummary } from "./Summary.js"
import { LOCAL_PERMITS } from "./ApiGate.js"
import { type CompanyOutcome, reasonCode, reasonText, type Scored, type Skipped } from "./Domain.js"
import { green, red, type Style, yellow } from "./internal/Ansi.js"
import { formatSeconds } from "./internal/DurationText.js"

export type Format = "table" | "json" | "csv" | "ndjson"
export const formats: ReadonlyArray<Format> = ["table", "json", "csv", "ndjson"]

/** The JSON shape of one company. */
export type CompanyJson =
  | {
    readonly input: string
    readonly ticker: string
    readonly status: "scored"
    readonly name: string
    readonly sector: string
    readonly marketCapUsd: number
    readonly revenueUsdM: number
    readonly emissions: {
      readonly scope1Tco2e: number
      readonly scope2Tco2e: number
      readonly uncertaintyPct: number
      readonly reportingYear: number
    }
    readonly governance: {
      readonly score: number
      readonly deductions: ReadonlyArray<{ readonly keyIssue: string; readonly points: number }>
    }
    /** Whether the score was reused from a cache instead of computed by this run. */
    readonly cached: boolean
    /** When a cached score was computed (ISO 8601). */
    readonly cachedAt?: string
    /** Present (true) when the company was scored in the second pass. */
    readonly secondPass?: true
    readonly score: {
      readonly value: number
      readonly rating: string
      readonly environmental: number
      readonly governance: number
      readonly weights: { readonly environmental: number; readonly governance: number }
      readonly weightedAverage: number
      readonly interval: { readonly low: number; readonly high: number }
      readonly stability: number
      readonly samples: number
    }
  }
  | {
    readonly input: string
    readonly ticker: string | null
    readonly status: "skipped"
    /** The reason as text, as the table prints it. */
    readonly reason: string
    /** A stable code per kind of skip: data-incomplete, unknown-company, provider-failed, scoring-failed, internal-error. */
    readonly reasonCode: string
    readonly missing: ReadonlyArray<string>
    readonly detail?: string
    /** Present (true) when the company was skipped again in the second pass. */
    readonly secondPass?: true
  }

const scoredJson = (o: Scored): CompanyJson => ({
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
    reportingYear: o.emissions.reportingYear
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
  }
})

const skippedJson = (o: Skipped): CompanyJson => ({
  input: o.input,
  ticker: o.ticker,
  status: "skipped",
  reason: reasonText(o.reason),
  reasonCode: reasonCode(o.reason),
  missing: o.missing,
  ...(o.detail === undefined ? {} : { detail: o.detail }),
  ...(o.secondPass === true ? { secondPass: true } : {})
})

export const companyJson = (outcome: CompanyOutcome): CompanyJson =>
  outcome._tag === "Scored" ? scoredJson(outcome) : skippedJson(outcome)

export const toJson = (report: RunReport) => ({
  companies: report.outcomes.map(companyJson),
  summary: report.summary
})

/** Exactly one JSON document, newline-terminated. */
export const renderJson = (report: RunReport): string => JSON.stringify(toJson(report), null, 2) + "\n"

const usd = (value: number): string => {
  const units: ReadonlyArray<readonly [number, string]> = [[1e12, "T"], [1e9, "B"], [1e6, "M"]]
  for (const [size, suffix] of units) {
    if (value >= size) return `$${(value / size).toFixed(2)}${suffix}`
  }
  return `$${value.toFixed(0)}`
}

const tonnes = (value: number): string =>
  value >= 1e6 ? `${(value / 1e6).toFixed(2)}Mt` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}kt` : `${value.toFixed(0)}t`

const row = (outcome: CompanyOutcome): ReadonlyArray<string> => {
  if (outcome._tag === "Scored") {
    const f = outcome.fundamentals
    const score = outcome.score
    return [
      f.ticker,
      f.name,
      f.sector,
      usd(f.marketCapUsd),
      tonnes(outcome.emissions.scope1Tco2e + outcome.emissions.scope2Tco2e),
      score.environmental.toFixed(1),
      score.governance.toFixed(1),
      `${score.value.toFixed(2)} ${score.rating}`,
      score.samples === 0 ? "-" : `${score.interval.low.toFixed(2)}-${score.interval.high.toFixed(2)}`,
      score.samples === 0 ? "-" : `${(score.stability * 100).toFixed(0)}%`,
      outcome.cachedAt !== undefined ? "cached" : outcome.secondPass === true ? SECOND_PASS : ""
    ]
  }
  const unknown = outcome.reason._tag === "NotInUniverse"
  const missing = outcome.missing.length > 0 && !unknown ? ` (missing ${outcome.missing.join(", ")})` : ""
  const detail = unknown && outcome.detail !== undefined ? ` (${outcome.detail})` : ""
  const again = outcome.secondPass === true ? ` (${SECOND_PASS})` : ""
  // the ticker once: an input that is the ticker leaves the name blank; an unknown company has no ticker
  const ticker = outcome.ticker ?? "-"
  const name = outcome.input.trim().toUpperCase() === outcome.ticker ? "" : outcome.input
  return [ticker, name, "", "", "", "", "", `skipped: ${reasonText(outcome.reason)}${missing}${detail}${again}`, "", "", ""]
}

/** How the table marks an outcome of the second pass. */
const SECOND_PASS = "2nd pass"

const header = ["Ticker", "Name", "Sector", "Market cap", "Scope 1+2", "E", "G", "Score", "90% interval", "Holds", ""]

/** The colour of a rating: MSCI's leaders (AAA, AA), average (A to BB) and laggards (B, CCC). */
const ratingStyle = (rating: string): Style =>
  rating === "AAA" || rating === "AA" ? green : rating === "B" || rating === "CCC" ? red : yellow

/**
 * A plain-text table with one row per company, then the summary. With
 * `color` (only for a terminal that allows it), ratings are coloured.
 */
export const renderTable = (report: RunReport, options: { readonly color?: boolean } = {}): string => {
  const rows = [header, ...report.outcomes.map(row)]
  // a skip reason spans the score columns, so it does not widen them
  const widths = header.map((_, column) =>
    rows.reduce((widest, r) => r[8] !== "" || r === header ? Math.max(widest, r[column]!.length) : widest, 0)
  )
  const line = (r: ReadonlyArray<string>) => r.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()
  // the colour goes around the rating once the cell is padded: escape codes take no room on screen
  const coloured = (outcome: CompanyOutcome, text: string) => {
    if (options.color !== true || outcome._tag !== "Scored") return text
    const { rating, value } = outcome.score
    const cell = `${value.toFixed(2)} ${rating}`
    return text.replace(cell, `${value.toFixed(2)} ${ratingStyle(rating)(rating)}`)
  }
  const s = report.summary
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  ").trimEnd(),
    ...report.outcomes.map((outcome, i) => coloured(outcome, line(rows[i + 1]!))),
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

/**
 * A text cell a spreadsheet would not run: one starting with `=`, `+`, `-`,
 * `@`, a tab or a carriage return is prefixed with `'`.
 */
export const spreadsheetSafe = (text: string): string => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text)

const csvColumns = [
  "input", "ticker", "status", "name", "sector", "market_cap_usd", "revenue_usd_m", "scope1_tco2e", "scope2_tco2e",
  "score", "rating", "environmental", "governance", "interval_low", "interval_high", "stability", "samples",
  "cached", "cached_at", "reason", "reason_code", "missing", "detail", "second_pass", "partial"
] as const

const csvRow = (outcome: CompanyOutcome, partial: boolean): ReadonlyArray<string | number | boolean | null> => {
  const text = (value: string | null) => (value === null ? null : spreadsheetSafe(value))
  if (outcome._tag === "Scored") {
    const { emissions, fundamentals, score } = outcome
    return [
      text(outcome.input), text(outcome.ticker), "scored", text(fundamentals.name), text(fundamentals.sector),
      fundamentals.marketCapUsd, fundamentals.revenueUsdM, emissions.scope1Tco2e, emissions.scope2Tco2e,
      score.value, score.rating, score.environmental, score.governance, score.interval.low, score.interval.high,
      score.stability, score.samples, outcome.cachedAt !== undefined,
      outcome.cachedAt === undefined ? null : new Date(outcome.cachedAt).toISOString(), null, null, null, null,
      outcome.secondPass === true, partial
    ]
  }
  return [
    text(outcome.input), text(outcome.ticker), "skipped", null, null, null, null, null, null, null, null, null, null, null,
    null, null, null, false, null, text(reasonText(outcome.reason)), reasonCode(outcome.reason),
    outcome.missing.join(";"), text(outcome.detail ?? null), outcome.secondPass === true, partial
  ]
}

/** A CSV document: a header, then one row per company (the run's figures are in the JSON summary). */
export const renderCsv = (report: RunReport): string =>
  stringify([csvColumns, ...report.outcomes.map((outcome) => csvRow(outcome, report.summary.partial))], {
    cast: { boolean: (value) => (value ? "true" : "false") }
  })

/** One NDJSON line for a company, written as it completes. */
export const ndjsonCompany = (outcome: CompanyOutcome): string => JSON.stringify(companyJson(outcome)) + "\n"

/** The last NDJSON line: the run's summary. */
export const ndjsonSummary = (summary: RunSummary): string => JSON.stringify({ summary }) + "\n"

export const render = (report: RunReport, format: Format, options: { readonly color?: boolean } = {}): string =>
  format === "json"
    ? renderJson(report)
    : format === "csv"
    ? renderCsv(report)
    : format === "ndjson"
    ? report.outcomes.map(ndjsonCompany).join("") + ndjsonSummary(report.summary)
    : renderTable(report, options)
