/**
 * The aggregator against the local provider server over real sockets on
 * 127.0.0.1: the rate limit seen from the far side of the socket, every fault
 * accounted for, the API key kept secret, and the CLI process exiting.
 * Real time (`it.live`), small latencies, no wall-clock upper bounds.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, LogLevel, Option, Redacted } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import type { RunOptions } from "../src/RunConfig.js"
import { ApiGate } from "../src/ApiGate.js"
import * as App from "../src/App.js"
import { reasonText } from "../src/Domain.js"
import { Emissions } from "../src/Emissions.js"
import { Governance } from "../src/Governance.js"
import { IndexCache } from "../src/IndexCache.js"
import { decideFault, ProviderServer, type ProviderServerOptions } from "../src/provider-server/ProviderServer.js"
import { Report } from "../src/index.js"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import { makeLogCapture, seedNames, universe } from "./fixtures/Scenario.js"

const records = universe.slice(0, 200)
const tickers = records.map((r) => r.ticker)

/** The aggregator with both providers over HTTP at `url`; fundamentals and scoring in-process. */
const httpAggregator = (url: string, apiKey: Option.Option<Redacted.Redacted<string>> = Option.none()) =>
  App.layer({
    config: { samples: 0, latency: { fundamentals: 0 } },
    records,
    emissions: Emissions.layerHttp({ baseUrl: url, apiKey }),
    governance: Governance.layerHttp({ baseUrl: url, apiKey })
  })

/** Starts a server with `server` options, runs `inputs` through HTTP, returns the report and the server's stats. */
const runAgainstServer = (
  server: ProviderServerOptions,
  inputs: ReadonlyArray<string>,
  options: RunOptions,
  apiKey: Option.Option<Redacted.Redacted<string>> = Option.none()
) =>
  Effect.gen(function*() {
    const provider = yield* ProviderServer
    const result = yield* Effect.gen(function*() {
      const aggregator = yield* Aggregator
      const report = yield* aggregator.run(inputs, options)
      const cached = (yield* Effect.flatMap(IndexCache, (cache) => cache.entries)).map((e) => e.value.ticker)
      const gate = yield* Effect.flatMap(ApiGate, (gate) => gate.stats)
      return { report, cached, gate }
    }).pipe(Effect.provide(httpAggregator(provider.url, apiKey)))
    return { ...result, stats: yield* provider.stats }
  }).pipe(
    Effect.provide(ProviderServer.layer({ records, latencyEmissions: "8 millis", latencyGovernance: "5 millis", ...server }))
  )

const precise = /^Data Incomplete(: (emissions|governance) (HTTP \d{3}|payload invalid))?$/

describe("providers over HTTP", () => {
  it.live("scores the five seed companies through the server, which never sees more than 2 requests at once", () =>
    Effect.gen(function*() {
      const { report, stats } = yield* runAgainstServer(
        { latencyEmissions: "120 millis", latencyGovernance: "100 millis" },
        seedNames,
        {}
      )
      assert.deepStrictEqual(report.outcomes.map((o) => `${o.ticker}:${o._tag}`), [
        "AAPL:Scored",
        "MSFT:Scored",
        "META:Scored",
        "AMZN:Scored",
        "TSLA:Scored"
      ])
      assert.strictEqual(stats.requests, 10)
      assert.strictEqual(stats.maxConcurrent, 2)
      assert.match(report.summary.sources.emissions, /^http:\/\/127\.0\.0\.1:\d+$/)
    }))

  it.live("eager: apiCalls is what the server received, 4, as in-process and in virtual time", () =>
    Effect.gen(function*() {
      // the scenario at a tenth of its latencies: one company can finish, four cannot
      const { gate, report, stats } = yield* runAgainstServer(
        { latencyEmissions: "120 millis", latencyGovernance: "100 millis" },
        seedNames,
        { schedule: "eager", timeout: "200 millis" }
      )
      assert.strictEqual(report.summary.scored, 1)
      assert.strictEqual(report.summary.apiCalls, stats.requests)
      assert.strictEqual(gate.calls, 4)
    }))

  const faults: ReadonlyArray<readonly [string, ProviderServerOptions]> = [
    ["503s", { errorRate: 0.3 }],
    ["429s", { throttleRate: 0.3 }],
    ["malformed bodies", { malformedRate: 0.2 }],
    ["hangs", { hangRate: 0.1 }],
    ["all together", { errorRate: 0.15, throttleRate: 0.1, malformedRate: 0.05, hangRate: 0.05 }]
  ]
  for (const [name, fault] of faults) {
    it.live(`${name} on 200 companies: each reported once with a precise reason, nothing lost, never over the limit`, () =>
      Effect.gen(function*() {
        const { cached, report, stats } = yield* runAgainstServer({ seed: 7, retryAfterSeconds: 0, ...fault }, tickers, {
          timeout: "250 millis",
          retry: { maxAttempts: 3, baseDelay: "10 millis", maxDelay: "50 millis" }
        })
        assert.deepStrictEqual(report.outcomes.map((o) => o.input), tickers)
        const scored = report.outcomes.filter((o) => o._tag === "Scored").map((o) => o.ticker)
        assert.deepStrictEqual([...cached].sort(), [...scored].sort() as Array<string>)
        for (const outcome of report.outcomes) {
          if (outcome._tag === "Skipped") {
            assert.match(reasonText(outcome.reason), precise)
            assert.isAbove(outcome.missing.length, 0)
          }
        }
        assert.isAtMost(stats.maxConcurrent, 2)
        assert.strictEqual(stats.inFlight, 0)
        // the faults really happened, and some companies still got through
        assert.isAbove(report.summary.skipped, 0)
        assert.isAbove(report.summary.scored, 0)
        if (fault.malformedRate === 0.2) {
          assert.isTrue(report.outcomes.every((o) => o._tag === "Scored" || / payload invalid$/.test(reasonText(o.reason))))
        }
        if (fault.hangRate === 0.1) {
          assert.isTrue(report.outcomes.every((o) => o._tag === "Scored" || reasonText(o.reason) === "Data Incomplete"))
          assert.isAbove(stats.hung, 0)
        }
      }))
  }

  it.live("honours Retry-After: 1 on the socket: the retry goes out a second or more after the 429", () =>
    Effect.gen(function*() {
      const options = { seed: 3, throttleRate: 0.5 }
      // a ticker whose first emissions request is throttled and whose second is not, and governance never throttled
      const ticker = tickers.find((t) =>
        decideFault(options, "emissions", t, 1) === "throttle" &&
        decideFault(options, "emissions", t, 2) === "none" &&
        decideFault(options, "governance", t, 1) === "none"
      )!
      const { gate, report, stats } = yield* runAgainstServer(options, [ticker], { timeout: "5 seconds" })
      assert.strictEqual(report.outcomes[0]!._tag, "Scored")
      assert.strictEqual(stats.byStatus["429"], 1)
      assert.strictEqual(stats.requests, 3)
      assert.strictEqual(gate.calls, 3)
      // a lower bound only: the client waited at least what the server asked for
      assert.isAtLeast(report.summary.elapsedMs, 1000)
    }))

  it.live("the API key is sent, required, and never printed", () =>
    Effect.gen(function*() {
      const secret = "sk-test-5f0c1e9a-never-print-me"
      const logs = yield* makeLogCapture
      const good = yield* runAgainstServer(
        { apiKey: Redacted.make(secret) },
        ["Apple", "Tesla"],
        {},
        Option.some(Redacted.make(secret))
      ).pipe(Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.All))
      assert.strictEqual(good.report.summary.scored, 2)
      // a wrong key stops the run with one error, not one skip per company
      const refused = yield* Effect.flip(runAgainstServer(
        { apiKey: Redacted.make(secret) },
        ["Apple", "Microsoft", "Meta"],
        {},
        Option.some(Redacted.make("wrong-key"))
      )).pipe(Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.All))
      if (refused._tag !== "ProviderRefused") return assert.fail(`the server did not start: ${refused.message}`)
      assert.strictEqual(refused.status, 401)
      assert.strictEqual(refused.message, "the emissions API refused the API key (HTTP 401): check ESG_EMISSIONS_API_KEY")
      const printed = [
        JSON.stringify(yield* logs.entries),
        Report.renderJson(good.report),
        Report.renderTable(good.report),
        refused.message
      ].join("\n")
      assert.isAbove((yield* logs.entries).length, 0)
      assert.notInclude(printed, secret)
      // no key at all: said so, with the variable that sets one
      const none = yield* Effect.flip(runAgainstServer({ apiKey: Redacted.make(secret) }, ["Apple"], {}, Option.none()))
      if (none._tag !== "ProviderRefused") return assert.fail(`the server did not start: ${none.message}`)
      assert.strictEqual(none.message, "the emissions API wants an API key (HTTP 401) and none was sent: set ESG_EMISSIONS_API_KEY")
    }))
})

describe("the CLI process against the server", () => {
  it.live("a provider refusing the key: one configuration error, exit 4, no report", () =>
    Effect.gen(function*() {
      const provider = yield* ProviderServer
      const child = yield* runBuiltCli(
        ["--emissions-url", provider.url, "--governance-url", provider.url, "--format", "json", "--in-process", "--samples", "0"],
        { env: { ESG_EMISSIONS_API_KEY: "wrong-key", ESG_GOVERNANCE_API_KEY: "wrong-key" } }
      )
      assert.strictEqual(child.code, 4, child.stderr)
      assert.strictEqual(child.stdout, "")
      assert.match(child.stderr, /^esg-aggregator: the (emissions|governance) API refused the API key \(HTTP 401\): check ESG_\w+_API_KEY\n$/)
    }).pipe(Effect.provide(ProviderServer.layer({ records: universe, apiKey: Redacted.make("right-key"), latencyEmissions: "5 millis", latencyGovernance: "5 millis" }))))

  it.live("a provider no one answers at: named with the flag that sets it, and the run stops at once, exit 4", () =>
    Effect.gen(function*() {
      const companies = universe.slice(0, 20).map((record) => record.ticker)
      // port 9 (discard): nothing listens on the loopback, every connection is refused
      const child = yield* runBuiltCli([
        "--emissions-url",
        "http://127.0.0.1:9",
        "--format",
        "json",
        "--in-process",
        "--samples",
        "0",
        "--db-latency",
        "0",
        "--no-cache",
        ...companies
      ])
      // stopped at once, with no report: not after every company's deadline spent on retries (exit 3)
      assert.strictEqual(child.code, 4, child.stderr)
      assert.strictEqual(child.stdout, "")
      assert.match(
        child.stderr,
        /^esg-aggregator: the emissions API refuses every connection: connection error \(ECONNREFUSED\) at http:\/\/127\.0\.0\.1:9; check --emissions-url \(or ESG_EMISSIONS_URL\) and that the provider is running\n$/
      )
    }))

  it.live("with every fault injected, prints one complete JSON report and exits by itself", () =>
    Effect.gen(function*() {
      const provider = yield* ProviderServer
      const child = yield* runBuiltCli([
        "--emissions-url",
        provider.url,
        "--governance-url",
        provider.url,
        "--format",
        "json",
        "--db-latency",
        "0",
        "--samples",
        "1000",
        "--timeout",
        "300ms",
        ...tickers.slice(0, 60)
      ])
      assert.strictEqual(child.code, 3, child.stderr)
      const report = JSON.parse(child.stdout)
      assert.strictEqual(report.companies.length, 60)
      assert.strictEqual(report.summary.cacheSize, report.summary.scored)
      assert.isAtMost((yield* provider.stats).maxConcurrent, 2)
    }).pipe(
      Effect.provide(ProviderServer.layer({
        records,
        latencyEmissions: "10 millis",
        latencyGovernance: "5 millis",
        seed: 11,
        errorRate: 0.15,
        throttleRate: 0.1,
        malformedRate: 0.05,
        hangRate: 0.05
      }))
    ))
})
