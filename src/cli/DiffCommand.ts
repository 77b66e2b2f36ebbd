/**
 * `diff OLD.json NEW.json`: what changed between two JSON reports a team
 * kept: ratings up and down, holdings added and removed, and the portfolio's
 * figures side by side; `--html FILE` also writes NEW's page with those
 * changes. Each report is decoded with the report's own schema,
 * so a file that is not one is one line naming what is wrong. The exit code
 * says whether any rating moved down (3), so a scheduled job can alert on it.
 *
 * @since 0.1.0
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import { type Rating, ratings } from "../Domain.js"
import { previousRunOf } from "../Portfolio.js"
import { decodeReportJson, type ReportJson } from "../Report.js"
import { ExitCode } from "./ExitCode.js"
import { Output } from "./Output.js"
import { openOutputFile } from "./OutputFile.js"

interface Rated {
  readonly ticker: string
  readonly rating: Rating
  readonly value: number
}

const ratedOf = (report: ReportJson): ReadonlyMap<string, Rated | null> => {
  const rated = new Map<string, Rated | null>()
  for (const company of report.companies) {
    const key = company.ticker ?? company.input
    if (company.status === "scored") rated.set(key, { ticker: key, rating: company.score.rating, value: company.score.value })
    else if (!rated.has(key)) rated.set(key, null)
  }
  return rated
}

const rank = (rating: Rating) => ratings.indexOf(rating)

/**
 * The lines of the comparison of `before` with `after`, and whether a rating moved down.
 *
 * @since 0.1.0
 */
export const compareReports = (before: ReportJson, after: ReportJson): { readonly lines: ReadonlyArray<string>; readonly downgraded: boolean } => {
  const old = ratedOf(before)
  const now = ratedOf(after)
  const up: Array<string> = []
  const down: Array<string> = []
  const added: Array<string> = []
  const removed: Array<string> = []
  const fixed = (x: number) => x.toFixed(2)
  for (const [key, rated] of now) {
    if (!old.has(key)) {
      added.push(`added       ${key}${rated === null ? " (not scored)" : ` ${rated.rating} ${fixed(rated.value)}`}`)
      continue
    }
    const was = old.get(key)
    if (was == null || rated === null) continue
    const move = `${key} ${was.rating} -> ${rated.rating} (${fixed(was.value)} -> ${fixed(rated.value)})`
    if (rank(rated.rating) > rank(was.rating)) up.push(`upgraded    ${move}`)
    if (rank(rated.rating) < rank(was.rating)) down.push(`downgraded  ${move}`)
  }
  for (const key of old.keys()) if (!now.has(key)) removed.push(`removed     ${key}`)
  const side = (label: string, a: string, b: string) => `${label.padEnd(22)}${a.padStart(16)}  ${b.padStart(16)}`
  const figures = [
    side("portfolio", "old", "new"),
    side("WACI (tCO2e/$M rev.)", waciOf(before), waciOf(after)),
    side("score", scoreOf(before), scoreOf(after)),
    side("coverage (weight)", coverageOf(before), coverageOf(after)),
    side("companies scored", String(before.summary.scored), String(after.summary.scored))
  ]
  const changes = [...down, ...up, ...added, ...removed]
  return {
    lines: [
      ...(changes.length === 0 ? ["no rating moved, no holding added or removed"] : changes),
      "",
      ...figures
    ],
    downgraded: down.length > 0
  }
}

const waciOf = (report: ReportJson) => report.portfolio?.waci == null ? "-" : report.portfolio.waci.value.toFixed(1)
const scoreOf = (report: ReportJson) => {
  const score = report.portfolio?.score
  return score === undefined ? "-" : "withheld" in score ? "withheld" : `${score.value.toFixed(2)} ${score.rating}`
}
const coverageOf = (report: ReportJson) =>
  report.portfolio === undefined ? "-" : `${(report.portfolio.coverage.weight * 100).toFixed(1)} %`

/** When `report`'s data was fetched (its newest fetch or computation), or undefined for a report that does not say. */
const dateOf = (report: ReportJson): string | undefined =>
  report.companies.reduce<string | undefined>((newest, company) => {
    const at = company.provenance?.fetchedAt ?? company.provenance?.computedAt
    return at !== undefined && (newest === undefined || at > newest) ? at : newest
  }, undefined)

/**
 * `after` with what `before` said of it: each company's previous score (`before`'s, when it scored it) and the
 * portfolio's previous figures, as a store would give them: the HTML page of `after` then shows what changed.
 *
 * @since 0.1.0
 */
export const againstEarlier = (before: ReportJson, after: ReportJson, beforeAt: string): ReportJson => {
  const old = ratedOf(before)
  // the portfolio's figures then are the same holdings' only when both hold the same companies at the same weights
  const holdingsOf = (report: ReportJson) =>
    report.companies.map((company) => `${company.ticker ?? company.input} ${company.weight ?? ""}`).sort().join("\n")
  const previous = holdingsOf(before) === holdingsOf(after) ? before.portfolio : undefined
  return {
    ...after,
    companies: after.companies.map((company) => {
      const was = old.get(company.ticker ?? company.input)
      return { ...company, previous: was == null ? null : { rating: was.rating, value: was.value, computedAt: beforeAt } }
    }),
    ...(after.portfolio === undefined ? {} : {
      portfolio: {
        ...after.portfolio,
        previousRun: previous === undefined ? null : previousRunOf(previous, beforeAt)
      }
    })
  }
}

/** The page of `after` against `before` (its date: its newest fetch, or the file's time), written atomically. */
const writePage = (before: ReportJson, beforeFile: string, after: ReportJson, target: string) =>
  Effect.gen(function*() {
    const { renderHtml } = yield* Effect.promise(() => import("../HtmlReport.js"))
    const beforeAt = dateOf(before) ?? fs.statSync(beforeFile).mtime.toISOString()
    const page = yield* Effect.orDie(renderHtml(againstEarlier(before, after, beforeAt)))
    const file = yield* openOutputFile(target)
    yield* file.write(page)
  }).pipe(Effect.scoped)

/** A kept report, decoded; a file that cannot be read or is no report is one line. */
const readReport = (file: string) =>
  Effect.try({ try: () => fs.readFileSync(file, "utf8"), catch: (cause) => `cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}` }).pipe(
    Effect.flatMap((text) =>
      Effect.mapError(decodeReportJson(text), (error) => `${file} is not a JSON report of esg-aggregator: ${error.message.split("\n").slice(0, 3).join(" ")}`)
    )
  )

export const diffCommand = Command.make(
  "diff",
  {
    before: Args.file({ name: "OLD.json", exists: "yes" }).pipe(Args.withDescription("The earlier JSON report")),
    after: Args.file({ name: "NEW.json", exists: "yes" }).pipe(Args.withDescription("The later JSON report")),
    html: Options.file("html").pipe(
      Options.withDescription("Also writes NEW's HTML page, with each change since OLD (replaced atomically)"),
      Options.optional
    )
  },
  ({ after, before, html }) =>
    Effect.gen(function*() {
      const output = yield* Output
      const reports = yield* Effect.either(Effect.all([readReport(before), readReport(after)]))
      if (reports._tag === "Left") {
        yield* output.stderr(`esg-aggregator diff: ${reports.left}`)
        return ExitCode.usage
      }
      const compared = compareReports(reports.right[0], reports.right[1])
      if (Option.isSome(html)) {
        const written = yield* Effect.either(writePage(reports.right[0], before, reports.right[1], html.value))
        if (written._tag === "Left") {
          yield* output.stderr(`esg-aggregator diff: ${written.left.message}`)
          return ExitCode.unavailable
        }
      }
      yield* output.stdout(compared.lines.join("\n"))
      return compared.downgraded ? ExitCode.partial : ExitCode.ok
    })
).pipe(Command.withDescription("Compares two JSON reports: ratings up and down, holdings added and removed, the portfolio's figures"))
