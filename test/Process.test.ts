/**
 * The built CLI as a real process (`dist/main.js`, built by `npm test`'s
 * pretest): exit codes, stdout/stderr discipline, and that it exits by itself
 * or on SIGINT with its worker threads.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { runBuiltCli } from "./fixtures/BuiltCli.js"

describe("the CLI process", () => {
  it.live("prints the seed report and exits 0 by itself", () =>
    Effect.gen(function*() {
      const run = yield* runBuiltCli(["--format", "json", "--latency-emissions", "30ms", "--latency-governance", "20ms", "--db-latency", "10ms", "--samples", "5000"])
      assert.strictEqual(run.code, 0, run.stderr)
      const report = JSON.parse(run.stdout)
      assert.strictEqual(report.summary.scored, 5)
      assert.strictEqual(report.summary.maxApiCallsInFlight, 2)
    }))

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it.live(`${signal} mid-run: the partial report of what finished, one line on stderr, exit ${code} within a second`, () =>
      Effect.gen(function*() {
        // the signal goes out once the first company is scored, while the others are in flight on the workers
        const run = yield* runBuiltCli(["AAPL", "MSFT", "META", "--format", "json", "--log-level", "debug"], {
          signalWhen: { stderr: /message="Company scored"/, signal }
        })
        assert.strictEqual(run.code, code, run.stderr)
        const report = JSON.parse(run.stdout)
        assert.isTrue(report.summary.partial)
        assert.isAtLeast(report.companies.length, 1)
        assert.isBelow(report.companies.length, 3)
        assert.strictEqual(report.companies[0].ticker, "AAPL")
        const notices = run.stderr.split("\n").filter((line) => line.startsWith("esg-aggregator:"))
        assert.deepStrictEqual(notices, [
          `esg-aggregator: stopped by ${signal}: partial report, ${report.companies.length} of 3 companies finished`
        ])
        // measured about 0.4 s; the bound leaves room for a loaded machine
        assert.isBelow(run.afterSignalMs, 2000)
      }))
  }

  const oneLineFailures: ReadonlyArray<readonly [string, ReadonlyArray<string>, number, string]> = [
    ["a missing database", ["--db", "/nonexistent/universe.db"], 4, "esg-aggregator: database not found: /nonexistent/universe.db"],
    ["a usage error", ["--api-concurrency", "0"], 2, "esg-aggregator: --api-concurrency: expected a whole number from 1 to 64, got '0' (see --help)"]
  ]
  for (const [what, args, code, line] of oneLineFailures) {
    it.live(`${what}: exit ${code}, one line on stderr, nothing on stdout`, () =>
      Effect.gen(function*() {
        const run = yield* runBuiltCli(args)
        assert.strictEqual(run.code, code)
        assert.strictEqual(run.stdout, "")
        assert.strictEqual(run.stderr, `${line}\n`)
      }))
  }
})
