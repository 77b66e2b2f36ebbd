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

  it.live("stops on SIGINT mid-run, worker threads and all, with exit code 130 and no report", () =>
    Effect.gen(function*() {
      // the unknown company's warning is logged once the workers are up and the run has begun
      const run = yield* runBuiltCli(["Nonexistent Widgets", "Apple", "Microsoft", "--format", "json"], { sigintOnStderr: true })
      assert.match(run.stderr, /Unknown company/)
      assert.strictEqual(run.code, 130, run.stderr)
      assert.strictEqual(run.stdout, "")
    }))

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
