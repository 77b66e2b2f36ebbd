import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, FastCheck, Fiber, Layer, Option, Ref, TestClock } from "effect"
import { Aggregator, type RunOptions, type RunReport } from "../src/Aggregator.js"
import { ApiGate, type ExternalSource } from "../src/ApiGate.js"
import { type CompanyOutcome, DATA_INCOMPLETE, type Source, type Ticker } from "../src/Domain.js"
import { IndexCache } from "../src/IndexCache.js"
import { ScoreEngine } from "../src/ScoreEngine.js"
import {
  FundamentalsStarts,
  makeLogCapture,
  type ScenarioOptions,
  scenarioLayer,
  seedNames,
  universe
} from "./fixtures/Scenario.js"

/** Forks the run, moves virtual time far enough, joins: the TestClock pattern. */
const runFor = (inputs: ReadonlyArray<string>, options: RunOptions, advance: Duration.DurationInput) =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const fiber = yield* Effect.fork(aggregator.run(inputs, options))
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

const grantsOf = Effect.flatMap(ApiGate, (gate) => gate.grants)

const tickersOf = (report: RunReport, tag: CompanyOutcome["_tag"]): Array<string | null> =>
  report.outcomes.filter((o) => o._tag === tag).map((o) => o.ticker)

describe("Aggregator", () => {
  describe("fifo, seed scenario", () => {
    it.effect("scores all five in exactly 5.6 s with permits granted in input order", () =>
      Effect.gen(function*() {
        const report = yield* runFor(seedNames, { schedule: "fifo" }, "10 seconds")
        assert.strictEqual(report.summary.elapsedMs, 5600)
        assert.strictEqual(report.summary.scored, 5)
        assert.strictEqual(report.summary.skipped, 0)
        assert.strictEqual(report.summary.cacheSize, 5)
        assert.strictEqual(report.summary.apiCalls, 10)
        assert.strictEqual(report.summary.maxApiCallsInFlight, 2)
        assert.deepStrictEqual(tickersOf(report, "Scored"), ["AAPL", "MSFT", "META", "AMZN", "TSLA"])
        const grants = yield* grantsOf
        assert.deepStrictEqual(
          grants.map((g) => `${g.at} ${g.ticker} ${g.source}`),
          [
            "0 AAPL emissions",
            "0 AAPL governance",
            "1000 MSFT emissions",
            "1200 MSFT governance",
            "2200 META emissions",
            "2200 META governance",
            "3200 AMZN emissions",
            "3400 AMZN governance",
            "4400 TSLA emissions",
            "4400 TSLA governance"
          ]
        )
      }).pipe(Effect.provide(scenarioLayer())))

    it.effect("scores 100 companies in exactly 110.0 s, the lower bound N x 2.2 s / 2", () =>
      Effect.gen(function*() {
        const inputs = universe.slice(0, 100).map((r) => r.ticker)
        const report = yield* runFor(inputs, { schedule: "fifo" }, "200 seconds")
        assert.strictEqual(report.summary.elapsedMs, 110_000)
        assert.strictEqual(report.summary.scored, 100)
        assert.strictEqual(report.summary.cacheSize, 100)
        assert.strictEqual(report.summary.maxApiCallsInFlight, 2)
      }).pipe(Effect.provide(scenarioLayer())))

    it.effect("skips a company with a slow source, releases its permits, and the rest finish", () =>
      Effect.gen(function*() {
        const logs = yield* makeLogCapture
        const report = yield* runFor(seedNames, { schedule: "fifo" }, "20 seconds").pipe(Effect.provide(logs.layer))
        const msft = report.outcomes[1]!
        assert.strictEqual(msft._tag, "Skipped")
        if (msft._tag === "Skipped") {
          assert.strictEqual(msft.reason, DATA_INCOMPLETE)
          assert.deepStrictEqual(msft.missing, ["emissions"])
        }
        assert.deepStrictEqual(tickersOf(report, "Scored"), ["AAPL", "META", "AMZN", "TSLA"])
        const cache = yield* IndexCache
        assert.isTrue(Option.isNone(yield* cache.get("MSFT" as Ticker)))
        assert.strictEqual(report.summary.cacheSize, 4)
        // MSFT's deadline started at its first grant (1.0 s) and ended at 3.0 s; its emissions
        // permit went to META's governance call at that very instant
        const grants = yield* grantsOf
        const metaGovernance = grants.find((g) => g.ticker === "META" && g.source === "governance")!
        assert.strictEqual(metaGovernance.at, 3000)
        const incomplete = (yield* logs.entries).filter((e) => e.message === DATA_INCOMPLETE)
        assert.deepStrictEqual(incomplete.map((e) => [e.at, e.level, e.annotations["ticker"], e.annotations["missing"]]), [
          [3000, "ERROR", "MSFT", "emissions"]
        ])
        assert.strictEqual(report.summary.elapsedMs, 6000)
        assert.strictEqual(report.summary.maxApiCallsInFlight, 2)
      }).pipe(Effect.provide(scenarioLayer({ emissions: (t) => (t === "MSFT" ? "2500 millis" : "1200 millis") }))))
  })

  describe("eager, seed scenario", () => {
    it.effect("scores exactly one company and skips four at exactly 2.0 s", () =>
      Effect.gen(function*() {
        const logs = yield* makeLogCapture
        const report = yield* runFor(seedNames, { schedule: "eager" }, "10 seconds").pipe(Effect.provide(logs.layer))
        assert.deepStrictEqual(tickersOf(report, "Scored"), ["AAPL"])
        assert.deepStrictEqual(tickersOf(report, "Skipped"), ["MSFT", "META", "AMZN", "TSLA"])
        for (const outcome of report.outcomes.slice(1)) {
          assert.strictEqual(outcome._tag === "Skipped" && outcome.reason, DATA_INCOMPLETE)
        }
        const incomplete = (yield* logs.entries).filter((e) => e.message === DATA_INCOMPLETE)
        // the four deadlines end at the same virtual instant, so their log order is not meaningful
        assert.deepStrictEqual(incomplete.map((e) => `${e.at} ${e.level} ${e.annotations["ticker"]}`).sort(), [
          "2000 ERROR AMZN",
          "2000 ERROR META",
          "2000 ERROR MSFT",
          "2000 ERROR TSLA"
        ])
        const cache = yield* IndexCache
        assert.deepStrictEqual((yield* cache.entries).map((e) => e.value.ticker), ["AAPL"])
        assert.strictEqual(report.summary.elapsedMs, 2000)
        assert.strictEqual(report.summary.maxApiCallsInFlight, 2)
      }).pipe(Effect.provide(scenarioLayer())))
  })

  it.effect("reports unknown companies as skipped and ignores duplicates", () =>
    Effect.gen(function*() {
      const report = yield* runFor(["apple", "Nonexistent Widgets", "AAPL", "msft"], { schedule: "fifo" }, "10 seconds")
      assert.deepStrictEqual(report.outcomes.map((o) => [o.input, o._tag]), [
        ["apple", "Scored"],
        ["Nonexistent Widgets", "Skipped"],
        ["msft", "Scored"]
      ])
      const unknown = report.outcomes[1]!
      assert.strictEqual(unknown._tag === "Skipped" && unknown.reason, "Unknown company")
      assert.strictEqual(report.summary.requested, 3)
    }).pipe(Effect.provide(scenarioLayer())))

  describe("property: any latencies and permit counts", () => {
    const latency = FastCheck.integer({ min: 1, max: 30 }).map((n) => n * 100)
    const company = FastCheck.record({ fundamentals: latency, emissions: latency, governance: latency })

    it.effect.prop(
      "never exceeds the permits, reports each company once, caches exactly the scored, skips exactly the late",
      {
        companies: FastCheck.array(company, { minLength: 1, maxLength: 8 }),
        permits: FastCheck.integer({ min: 1, max: 4 }),
        timeoutMs: FastCheck.integer({ min: 5, max: 40 }).map((n) => n * 100 + 50),
        schedule: FastCheck.constantFrom("fifo" as const, "eager" as const)
      },
      ({ companies, permits, schedule, timeoutMs }) => {
        const records = universe.slice(0, companies.length)
        const latencies = new Map(records.map((r, i) => [r.ticker, companies[i]!]))
        const of = (source: Source) => (ticker: Ticker) => Duration.millis(latencies.get(ticker)![source])
        const options: ScenarioOptions = {
          permits,
          records,
          fundamentals: of("fundamentals"),
          emissions: of("emissions"),
          governance: of("governance")
        }
        return Effect.gen(function*() {
          const report = yield* runFor(records.map((r) => r.ticker), { schedule, timeout: Duration.millis(timeoutMs) }, "1000 seconds")
          const grants = yield* grantsOf
          const starts = yield* Ref.get(yield* FundamentalsStarts)
          const gate = yield* ApiGate
          assert.isAtMost((yield* gate.stats).maxInFlight, permits)

          assert.deepStrictEqual(report.outcomes.map((o) => o.input), records.map((r) => r.ticker))
          const cache = yield* IndexCache
          assert.deepStrictEqual(
            (yield* cache.entries).map((e) => e.value.ticker).sort(),
            tickersOf(report, "Scored").sort()
          )

          for (const outcome of report.outcomes) {
            const ticker = outcome.ticker!
            const own = grants.filter((g) => g.ticker === ticker)
            const grantAt = (source: ExternalSource) => own.find((g) => g.source === source)?.at
            const deadlineStart = schedule === "eager" ? 0 : Math.min(...own.map((g) => g.at))
            const deadline = deadlineStart + timeoutMs
            const arrivals: Record<Source, number | undefined> = {
              fundamentals: starts.get(ticker),
              emissions: grantAt("emissions"),
              governance: grantAt("governance")
            }
            const arrivalOf = (source: Source) => {
              const start = arrivals[source]
              return start === undefined ? Infinity : start + latencies.get(ticker)![source]
            }
            // data landing on the very instant the deadline fires may go either way; the property speaks of the rest
            if ((["fundamentals", "emissions", "governance"] as const).some((source) => arrivalOf(source) === deadline)) continue
            const late = (["fundamentals", "emissions", "governance"] as const).filter((source) => arrivalOf(source) > deadline)
            if (late.length === 0) {
              assert.strictEqual(outcome._tag, "Scored", `${ticker} arrived in time`)
            } else {
              assert.strictEqual(outcome._tag, "Skipped", `${ticker} was late for ${late.join(",")}`)
              if (outcome._tag === "Skipped") {
                assert.strictEqual(outcome.reason, DATA_INCOMPLETE)
                assert.deepStrictEqual(outcome.missing, late)
              }
            }
          }
        }).pipe(Effect.provide(scenarioLayer(options)))
      },
      { fastCheck: { numRuns: 60 } }
    )
  })

  it.effect("a deadline shorter than any source skips everything and leaves the cache empty", () =>
    Effect.gen(function*() {
      const report = yield* runFor(seedNames, { schedule: "fifo", timeout: "500 millis" }, "30 seconds")
      assert.strictEqual(report.summary.scored, 0)
      assert.strictEqual(report.summary.cacheSize, 0)
      // Apple's fundamentals had not arrived either; later companies' lookups started earlier, while they queued
      assert.deepStrictEqual(
        report.outcomes.map((o) => o._tag === "Skipped" && o.missing.join(",")),
        ["fundamentals,emissions,governance", "emissions,governance", "emissions,governance", "emissions,governance", "emissions,governance"]
      )
    }).pipe(Effect.provide(scenarioLayer())))

  it.effect("a scorer that never answers fails its company after the score timeout; the run still ends", () =>
    Effect.gen(function*() {
      const report = yield* runFor(["Apple", "Tesla"], { scoreTimeout: "30 seconds" }, "60 seconds")
      assert.deepStrictEqual(report.outcomes.map((o) => o._tag === "Skipped" && o.reason), [
        "Scoring failed: no score within 30s",
        "Scoring failed: no score within 30s"
      ])
      assert.strictEqual(report.summary.cacheSize, 0)
      // Tesla's data arrived at 2.2 s; its score gave up 30 s later
      assert.strictEqual(report.summary.elapsedMs, 32_200)
      // a stuck scorer in place of the real one
    }).pipe(Effect.provide(scenarioLayer({ scorer: Layer.succeed(ScoreEngine, ScoreEngine.of({ score: () => Effect.never })) }))))

  it.effect("layers compose: one gate can be shared by two runs and keeps counting", () =>
    Effect.gen(function*() {
      yield* runFor(["Apple"], {}, "5 seconds")
      const report = yield* runFor(["Tesla"], {}, "5 seconds")
      assert.strictEqual(report.summary.apiCalls, 4)
      assert.strictEqual(report.summary.cacheSize, 2)
    }).pipe(Effect.provide(scenarioLayer())))
})
