import { parse } from "csv-parse/sync"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, ParseResult, Schema, TestClock } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import type { Ticker } from "../src/Domain.js"
import {
  CompanyJson,
  csvHeader,
  decodeReportJson,
  decodeReportJsonSync,
  ndjsonCompany,
  renderCsv,
  renderJson,
  renderJsonChunks,
  renderTable,
  ReportJson,
  toJson
} from "../src/Report.js"
import { defaultRunConfig, type RunOptions } from "../src/RunConfig.js"
import { type RunReport, summarize } from "../src/Summary.js"
import { scenarioLayer, seedNames } from "./fixtures/Scenario.js"

/** Forks the run, moves virtual time far enough, joins: the TestClock pattern. */
const runFor = (inputs: ReadonlyArray<string>, options: RunOptions) =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const fiber = yield* Effect.fork(aggregator.run(inputs, options))
    yield* TestClock.adjust("60 seconds")
    return yield* Fiber.join(fiber)
  })

/**
 * Two runs on one application: the first scores MSFT in its second pass,
 * skips META twice (its emissions call always hangs) and an unknown company;
 * the second answers Apple from the cache and skips Meta again.
 */
const twoRuns = Effect.gen(function*() {
  const first = yield* runFor([...seedNames, "Nonexistent Widgets"], { schedule: "fifo", secondPass: true })
  const second = yield* runFor(["Apple", "Meta"], { schedule: "fifo" })
  return [first, second] as const
}).pipe(Effect.provide(scenarioLayer({
  emissionsFault: (ticker: Ticker, attempt: number) =>
    ticker === "META" || (ticker === "MSFT" && attempt === 1) ? { hang: true } as const : undefined
})))

/** `report`'s outcomes as a run whose team gate was lost would report them: partial, with why. */
const gateLost = (report: RunReport): RunReport => {
  const s = report.summary
  return summarize(report.outcomes, {
    config: { ...defaultRunConfig, schedule: s.schedule, timeout: Duration.millis(s.timeoutMs) },
    elapsedMs: s.elapsedMs,
    cacheSize: s.cacheSize,
    gate: { permits: s.apiConcurrency, calls: s.apiCalls, inFlight: 0, maxInFlight: s.maxApiCallsInFlight, longestWaitMs: 2500 },
    metrics: s.metrics,
    origins: { sources: s.sources, scoring: s.scoring, cache: s.cache, gate: "team esg at postgres://db/esg" },
    stopped: false,
    gateLost: "the team's permits at postgres://db/esg are out of reach"
  })
}

const companiesOf = (reports: ReadonlyArray<RunReport>) => reports.flatMap((report) => toJson(report).companies)

/** Where each issue of a failed decoding points, as `path: message`. */
const issuesOf = (error: ParseResult.ParseError) =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => `${issue.path.join(".")}: ${issue.message}`)

describe("the JSON report's schema", () => {
  it.effect("a rendered report decodes to the values it was rendered from, and encodes back to the same text", () =>
    Effect.gen(function*() {
      const reports = yield* twoRuns
      // every shape the schema tells apart is in these reports
      const companies = companiesOf(reports)
      assert.deepStrictEqual(companies.map((c) => `${c.status} ${c.ticker}${c.secondPass === true ? " again" : ""}`), [
        "scored AAPL",
        "scored MSFT again",
        "skipped META again",
        "scored AMZN",
        "scored TSLA",
        "skipped null",
        "scored AAPL",
        "skipped META"
      ])
      assert.isDefined(companies.find((c) => c.status === "scored" && c.cachedAt !== undefined))
      assert.isDefined(companies.find((c) => c.status === "skipped" && c.detail !== undefined))
      for (const report of [...reports, gateLost(reports[0])]) {
        const text = renderJson(report)
        const decoded = yield* decodeReportJson(text)
        assert.deepStrictEqual(decoded, toJson(report))
        assert.deepStrictEqual(decodeReportJsonSync(text), decoded)
        // the schema says exactly what is written: every field, in the order written
        assert.strictEqual(JSON.stringify(Schema.encodeSync(ReportJson)(decoded), null, 2) + "\n", text)
        const lines = report.outcomes.map((outcome) => Schema.decodeSync(Schema.parseJson(CompanyJson))(ndjsonCompany(outcome)))
        assert.deepStrictEqual(lines, decoded.companies)
      }
    }))

  it.effect("written in pieces, each ending a line, the report is the same text as the whole document", () =>
    Effect.gen(function*() {
      const [report] = yield* twoRuns
      const large: RunReport = { ...report, outcomes: Array.from({ length: 1100 }, (_, i) => report.outcomes[i % report.outcomes.length]!) }
      for (const each of [report, large, { ...report, outcomes: [] }]) {
        const chunks = Array.from(renderJsonChunks(each))
        assert.strictEqual(chunks.join(""), JSON.stringify(toJson(each), null, 2) + "\n")
        assert.isTrue(chunks.every((chunk) => chunk.endsWith("\n")))
      }
      // the list's opening, three pieces of at most 512 companies, the list's end with the summary
      assert.deepStrictEqual(Array.from(renderJsonChunks(large)).map((chunk) => chunk.split("\"input\"").length - 1), [0, 512, 512, 76, 0])
    }))

  it.effect("a document with a wrong field fails to decode with a ParseError naming the field", () =>
    Effect.gen(function*() {
      const [report] = yield* twoRuns
      const failure = (change: (document: { companies: Array<Record<string, unknown>>; summary: Record<string, unknown> }) => void) => {
        const document = JSON.parse(renderJson(report))
        change(document)
        return Effect.map(Effect.either(decodeReportJson(JSON.stringify(document))), (decoded) =>
          Either.isLeft(decoded) ? decoded.left : assert.fail(`decoded: ${JSON.stringify(document).slice(0, 80)}...`))
      }

      const maybe = yield* failure((d) => void (d.companies[2]!["status"] = "maybe"))
      assert.isTrue(ParseResult.isParseError(maybe))
      assert.deepStrictEqual(issuesOf(maybe), ["companies.2.status: Expected \"scored\" | \"skipped\", actual \"maybe\""])

      const noTicker = yield* failure((d) => void delete d.companies[0]!["ticker"])
      assert.deepStrictEqual(issuesOf(noTicker), ["companies.0.ticker: is missing"])

      const lowerCase = yield* failure((d) => void (d.companies[0]!["ticker"] = "aapl"))
      assert.match(issuesOf(lowerCase).join("\n"), /^companies\.0\.ticker: /)

      const schedule = yield* failure((d) => void (d.summary["schedule"] = "lifo"))
      assert.deepStrictEqual(issuesOf(schedule), [
        "summary.schedule: Expected \"fifo\", actual \"lifo\"",
        "summary.schedule: Expected \"eager\", actual \"lifo\""
      ])

      assert.throws(() => decodeReportJsonSync("{\"companies\": []}"), /\["summary"\]\s+└─ is missing/)
    }))
})

describe("the report's columns", () => {
  it.effect("the CSV header is the column names in order, and each cell sits under its name", () =>
    Effect.gen(function*() {
      const reports = yield* twoRuns
      for (const report of reports) {
        const csv = renderCsv(report)
        const [header] = parse(csv) as Array<Array<string>>
        assert.deepStrictEqual(header, [...csvHeader])
        assert.deepStrictEqual(csvHeader, [
          "input", "ticker", "status", "name", "sector", "market_cap_usd", "revenue_usd_m", "scope1_tco2e", "scope2_tco2e",
          "score", "rating", "environmental", "governance", "interval_low", "interval_high", "stability", "samples",
          "cached", "cached_at", "reason", "reason_code", "missing", "detail", "second_pass", "partial", "weight", "previous_rating", "waci_contribution"
        ])
        const rows = parse(csv, { columns: true }) as Array<Record<string, string>>
        const cells = (c: CompanyJson) =>
          c.status === "scored"
            ? {
              ticker: c.ticker,
              status: "scored",
              score: String(c.score.value),
              governance: String(c.score.governance),
              scope2_tco2e: String(c.emissions.scope2Tco2e),
              cached_at: c.cachedAt ?? "",
              reason_code: "",
              missing: "",
              second_pass: String(c.secondPass === true)
            }
            : {
              ticker: c.ticker ?? "",
              status: "skipped",
              score: "",
              governance: "",
              scope2_tco2e: "",
              cached_at: "",
              reason_code: c.reasonCode,
              missing: c.missing.join(";"),
              second_pass: String(c.secondPass === true)
            }
        const expected = toJson(report).companies.map(cells)
        const names = Object.keys(expected[0]!)
        assert.deepStrictEqual(rows.map((row) => Object.fromEntries(names.map((name) => [name, row[name]]))), expected)
      }
    }))

  it.effect("the table's cells sit under their headers: a score under Score, a skip's reason from Score on", () =>
    Effect.gen(function*() {
      const [report] = yield* twoRuns
      const [header, , ...lines] = renderTable(report).split("\n")
      assert.deepStrictEqual(header!.split(/ {2,}/), [
        "Ticker", "Name", "Sector", "Market cap", "Scope 1+2", "E", "G", "Score", "90% interval", "Holds"
      ])
      const at = header!.indexOf("Score")
      const underScore = lines.slice(0, report.outcomes.length).map((line) => line.slice(at).split("  ")[0])
      const scoreCell = (c: CompanyJson) => (c.status === "scored" ? `${c.score.value.toFixed(2)} ${c.score.rating}` : "")
      const [apple, microsoft, , amazon, tesla] = toJson(report).companies.map(scoreCell)
      assert.deepStrictEqual(underScore, [
        apple,
        microsoft,
        "skipped: Data Incomplete (missing emissions) (2nd pass)",
        amazon,
        tesla,
        "skipped: Unknown company"
      ])
    }))
})
