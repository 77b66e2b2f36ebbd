/**
 * Rendering of a run's report: a table for people, one JSON document for
 * programs.
 *
 * @since 0.1.0
 */
import type { RunReport } from "./Aggregator.js"
import { type CompanyOutcome, reasonCode, reasonText, type Scored, type Skipped } from "./Domain.js"
import { formatSeconds } from "./internal/DurationText.js"

export type Format = "table" | "json"
export const formats: ReadonlyArray<Format> = ["table", "json"]

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
  ...(o.detail === undefined ? {} : { detail: o.detail })
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
      score.samples === 0 ? "-" : `${(score.stability * 100).toFixed(0)}%`
    ]
  }
  const unknown = outcome.reason._tag === "NotInUniverse"
  const missing = outcome.missing.length > 0 && !unknown ? ` (missing ${outcome.missing.join(", ")})` : ""
  const detail = unknown && outcome.detail !== undefined ? ` (${outcome.detail})` : ""
  return [outcome.ticker ?? "?", outcome.input, "", "", "", "", "", `skipped: ${reasonText(outcome.reason)}${missing}${detail}`, "", ""]
}

const header = ["Ticker", "Name", "Sector", "Market cap", "Scope 1+2", "E", "G", "Score", "90% interval", "Holds"]

/** A plain-text table with one row per company, then the summary. */
export const renderTable = (report: RunReport): string => {
  const rows = [header, ...report.outcomes.map(row)]
  // a skip reason spans the score columns, so it does not widen them
  const widths = header.map((_, column) =>
    Math.max(...rows.filter((r) => r[8] !== "" || r === header).map((r) => r[column]!.length))
  )
  const line = (r: ReadonlyArray<string>) => r.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()
  const s = report.summary
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.slice(1).map(line),
    "",
    "E, G: environmental and governance pillars (0-10). Score: industry-adjusted (0-10) and rating.",
    "90% interval and Holds: Monte Carlo under input uncertainty; Holds is the chance the rating holds.",
    "",
    ...(s.partial ? ["Partial report: the run was stopped; the companies above are those that finished."] : []),
    `Scored ${s.scored} of ${s.requested}, skipped ${s.skipped}; cache size ${s.cacheSize}; total time ${
      (s.elapsedMs / 1000).toFixed(2)
    } s`,
    `API calls ${s.apiCalls}, at most ${s.maxApiCallsInFlight} in flight (limit ${s.apiConcurrency}); schedule ${s.schedule}, deadline ${
      formatSeconds(s.timeoutMs)
    } s`,
    `Sources: fundamentals ${s.sources.fundamentals}, emissions ${s.sources.emissions}, governance ${s.sources.governance}; scoring on ${s.scoring}`,
    ""
  ].join("\n")
}

export const render = (report: RunReport, format: Format): string =>
  format === "json" ? renderJson(report) : renderTable(report)
