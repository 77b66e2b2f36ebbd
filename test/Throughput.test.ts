/**
 * The quota is the only limit, with real processes: the built CLI against
 * `serve-providers` at a large quota. Every company is scored, none takes a
 * turn again because this process was still starting its threads, and the
 * provider never sees more requests at once than the quota. Real time
 * (`it.live`); the bounds only turn a hang into a failure.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import { serveProviders } from "./fixtures/ProviderProcess.js"
import { universe } from "./fixtures/Scenario.js"

interface Report {
  readonly companies: ReadonlyArray<{ readonly ticker: string; readonly status: string }>
  readonly summary: { readonly scored: number; readonly metrics: { readonly turnsAgain: number } }
}

/** `count` sample companies through the CLI at `permits` against a 50 ms server; the report and the server's stats. */
const atQuota = (count: number, permits: number, flags: ReadonlyArray<string>) =>
  Effect.scoped(Effect.gen(function*() {
    const server = yield* serveProviders(["--latency-emissions", "50ms", "--latency-governance", "50ms"])
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-quota-"))
    const input = path.join(dir, "companies.txt")
    fs.writeFileSync(input, universe.slice(0, count).map((r) => r.ticker).join("\n"))
    const finished = yield* runBuiltCli([
      "--format", "json", "--input", input, "--api-concurrency", String(permits), "--samples", "0",
      "--emissions-url", server.url, "--governance-url", server.url, ...flags
    ], { bound: Duration.minutes(2) })
    fs.rmSync(dir, { recursive: true, force: true })
    assert.strictEqual(finished.code, 0, finished.stderr)
    return { report: JSON.parse(finished.stdout) as Report, stats: yield* server.stats }
  }))

/** `companies` at `permits`: every one scored on its first turn, never more than the permits at the provider, two requests each. */
const scoredOnFirstTurn = (companies: number, permits: number, flags: ReadonlyArray<string>) =>
  Effect.tap(atQuota(companies, permits, flags), ({ report, stats }) =>
    Effect.sync(() => {
      assert.deepStrictEqual(report.companies.filter((c) => c.status !== "scored").map((c) => c.ticker), [])
      assert.strictEqual(report.summary.metrics.turnsAgain, 0)
      assert.isAtMost(stats.maxConcurrent, permits)
      assert.strictEqual(stats.requests, 2 * companies)
    }))

describe("the quota is the only limit", () => {
  it.live("64 permits, 500 companies, lookups that block for nothing: every company scored on its first turn", () =>
    Effect.gen(function*() {
      const { stats } = yield* scoredOnFirstTurn(500, 64, ["--db-latency", "0"])
      assert.isAbove(stats.maxConcurrent, 32)
    }), { timeout: 180_000 })

  it.live("16 permits, lookups that block 0.2 s: the pool grows to them, and every company is scored on its first turn", () =>
    Effect.gen(function*() {
      yield* scoredOnFirstTurn(150, 16, ["--db-latency", "200ms"])
    }), { timeout: 180_000 })
})
