/**
 * A fault stays with its company, over HTTP with real processes: `serve-providers` with every kind of fault on,
 * the built CLI against it, and the server's own record of the requests it injected a fault into (`GET /faults`).
 * Every company with no entry there is scored, checked company by company. Real time (`it.live`); the bounds only
 * turn a hang into a failure.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { decideFault, InjectedFault } from "../src/provider-server/ProviderServer.js"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import { serveProviders } from "./fixtures/ProviderProcess.js"
import { universe } from "./fixtures/Scenario.js"

/** Every kind of fault: `--error-rate 0.15 --throttle-rate 0.1 --malformed-rate 0.05 --hang-rate 0.05 --seed 7`. */
const FAULTS = ["--error-rate", "0.15", "--throttle-rate", "0.1", "--malformed-rate", "0.05", "--hang-rate", "0.05", "--seed", "7"]

interface Company {
  readonly ticker: string
  readonly status: "scored" | "skipped"
}

/** `count` sample companies through the CLI against a faulty server; the report and the tickers the server faulted. */
const againstFaultyServer = (count: number, latencies: ReadonlyArray<string>, cliArgs: ReadonlyArray<string>) =>
  Effect.scoped(Effect.gen(function*() {
    const server = yield* serveProviders([...latencies, ...FAULTS])
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-faults-"))
    const input = path.join(dir, "companies.txt")
    fs.writeFileSync(input, universe.slice(0, count).map((r) => r.ticker).join("\n"))
    const finished = yield* runBuiltCli(
      ["--format", "json", "--input", input, "--emissions-url", server.url, "--governance-url", server.url, ...cliArgs],
      { bound: Duration.minutes(4) }
    )
    fs.rmSync(dir, { recursive: true, force: true })
    assert.include([0, 3], finished.code, finished.stderr)
    const response = yield* Effect.promise(() => fetch(`${server.url}/faults`))
    // the server's record is whole: it left out no faulted request
    assert.isNull(response.headers.get("faults-left-out"))
    const faults = yield* Schema.decodeUnknown(Schema.Array(InjectedFault))(yield* Effect.promise(() => response.json()))
    const report = JSON.parse(finished.stdout) as { companies: ReadonlyArray<Company> }
    return { companies: report.companies, faulted: new Set(faults.map((f) => f.ticker)), stats: yield* server.stats }
  }))

const faultFreeLost = (companies: ReadonlyArray<Company>, faulted: ReadonlySet<string>) =>
  companies.filter((c) => !faulted.has(c.ticker) && c.status !== "scored").map((c) => c.ticker)

const RATES = { errorRate: 0.15, throttleRate: 0.1, malformedRate: 0.05, hangRate: 0.05, seed: 7 }

/**
 * The companies whose first request to each provider the server answers without a fault. Each request sent again
 * (a retry, a turn taken again) draws anew, so a program that sends more leaves fewer fault-free companies to check:
 * most of these must stay fault-free.
 */
const firstRequestsClean = (companies: ReadonlyArray<Company>) =>
  companies.filter((c) => decideFault(RATES, "emissions", c.ticker, 1) === "none" && decideFault(RATES, "governance", c.ticker, 1) === "none")

describe("a fault stays with its company, over HTTP", () => {
  it.live("60 companies at the scenario's latencies: every company the server faulted nothing of is scored", () =>
    Effect.gen(function*() {
      const { companies, faulted, stats } = yield* againstFaultyServer(60, [], [])
      assert.deepStrictEqual(companies.map((c) => c.ticker), universe.slice(0, 60).map((r) => r.ticker))
      const faultFree = companies.filter((c) => !faulted.has(c.ticker))
      assert.isAtLeast(faultFree.length, 0.6 * firstRequestsClean(companies).length)
      assert.isBelow(faultFree.length, 60)
      assert.deepStrictEqual(faultFreeLost(companies, faulted), [])
      assert.isAtMost(stats.maxConcurrent, 2)
    }), { timeout: 300_000 })

  it.live("500 companies at 5 % of the scenario's latencies: every company the server faulted nothing of is scored", () =>
    Effect.gen(function*() {
      const { companies, faulted, stats } = yield* againstFaultyServer(
        500,
        ["--latency-emissions", "60ms", "--latency-governance", "50ms"],
        ["--db-latency", "40ms", "--timeout", "100ms"]
      )
      assert.strictEqual(companies.length, 500)
      const faultFree = companies.filter((c) => !faulted.has(c.ticker))
      assert.isAtLeast(faultFree.length, 0.6 * firstRequestsClean(companies).length)
      assert.deepStrictEqual(faultFreeLost(companies, faulted), [])
      assert.isAtMost(stats.maxConcurrent, 2)
    }), { timeout: 300_000 })
})
