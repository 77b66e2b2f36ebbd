/**
 * One company's run, by the way it can end: every skip reason with what it
 * reports and logs, and a failure that must not spill over to the others.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import type { RunOptions } from "../src/RunConfig.js"
import { type CompanyOutcome, reasonCode, reasonText, ScoringError, SourceError, type Ticker } from "../src/Domain.js"
import { ScoreEngine } from "../src/ScoreEngine.js"
import { makeLogCapture, scenarioLayer, universe } from "./fixtures/Scenario.js"

const runFor = (inputs: ReadonlyArray<string>, options: RunOptions = {}) =>
  Effect.gen(function*() {
    const logs = yield* makeLogCapture
    const aggregator = yield* Aggregator
    const fiber = yield* Effect.fork(aggregator.run(inputs, options).pipe(Effect.provide(logs.layer)))
    yield* TestClock.adjust("60 seconds")
    const report = yield* Fiber.join(fiber)
    return { report, logs: yield* logs.entries }
  })

const skipped = (outcome: CompanyOutcome) => {
  assert.strictEqual(outcome._tag, "Skipped", outcome.input)
  return outcome as Extract<CompanyOutcome, { _tag: "Skipped" }>
}

const permanent = (status?: number) => (ticker: Ticker, attempt: number) =>
  ticker === "AAPL" && attempt === 1
    ? {
      afterMs: 100,
      error: new SourceError({
        source: "emissions",
        ticker,
        reason: status === undefined ? "payload invalid" : `HTTP ${status}`,
        ...(status === undefined ? {} : { status })
      })
    }
    : undefined

/** A scorer that fails (or dies) for one ticker and scores the rest on the inline model. */
const scorerFailingOn = (ticker: string, how: "fail" | "die") =>
  Layer.effect(
    ScoreEngine,
    Effect.map(ScoreEngine, (inner) =>
      ScoreEngine.of({
        origin: inner.origin,
        score: (input) =>
          input.fundamentals.ticker !== ticker
            ? inner.score(input)
            : how === "fail"
            ? Effect.fail(new ScoringError({ ticker: input.fundamentals.ticker, reason: "model diverged" }))
            : Effect.die(new Error("scorer bug"))
      }))
  ).pipe(Layer.provide(ScoreEngine.layerInline({ records: universe, samples: 0 })))

describe("CompanyRun", () => {
  it.effect("a provider failure names the source, the status and the reason, and misses what never arrived", () =>
    Effect.gen(function*() {
      const { report } = yield* runFor(["Apple", "Tesla"])
      const apple = skipped(report.outcomes[0]!)
      assert.strictEqual(reasonText(apple.reason), "Data Incomplete: emissions HTTP 404")
      assert.strictEqual(reasonCode(apple.reason), "provider-failed")
      assert.strictEqual(apple.reason._tag === "ProviderFailed" && apple.reason.status, 404)
      assert.strictEqual(apple.detail, "emissions for AAPL: HTTP 404")
      // it failed at 0.1 s: the 0.8 s lookup and the 1.0 s governance call, cut short by it, are not what was missing
      assert.deepStrictEqual(apple.missing, ["emissions"])
      assert.strictEqual(report.outcomes[1]!._tag, "Scored")
    }).pipe(Effect.provide(scenarioLayer({ emissionsFault: permanent(404) }))))

  it.effect("a failure without a status reports none", () =>
    Effect.gen(function*() {
      const { report } = yield* runFor(["Apple"])
      const apple = skipped(report.outcomes[0]!)
      assert.strictEqual(reasonText(apple.reason), "Data Incomplete: emissions payload invalid")
      assert.isTrue(apple.reason._tag === "ProviderFailed" && !("status" in apple.reason && apple.reason.status !== undefined))
    }).pipe(Effect.provide(scenarioLayer({ emissionsFault: permanent() }))))

  it.effect("a missed deadline says what did not arrive in time, in the report and in the log", () =>
    Effect.gen(function*() {
      const { logs, report } = yield* runFor(["Apple", "Microsoft"], { schedule: "eager" })
      const msft = skipped(report.outcomes[1]!)
      assert.strictEqual(reasonCode(msft.reason), "data-incomplete")
      assert.strictEqual(msft.detail, "no data within 2s for: emissions, governance")
      const logged = logs.find((e) => e.message === "Data Incomplete" && e.annotations["ticker"] === "MSFT")!
      assert.strictEqual(logged.annotations["missing"], "emissions,governance")
      assert.strictEqual(logged.annotations["company"], "Microsoft")
    }).pipe(Effect.provide(scenarioLayer({ permits: 2, fundamentals: "100 millis", emissions: "1500 millis", governance: "1500 millis" }))))

  it.effect("eager: one company's provider failure leaves the shared deadline to the others", () =>
    Effect.gen(function*() {
      // Apple fails at 0.1 s and frees both permits; Microsoft gets them and is scored well within 2 s
      const { report } = yield* runFor(["Apple", "Microsoft"], { schedule: "eager" })
      assert.strictEqual(skipped(report.outcomes[0]!).reason._tag, "ProviderFailed")
      assert.strictEqual(report.outcomes[1]!._tag, "Scored")
      assert.strictEqual(report.summary.elapsedMs, 1300)
    }).pipe(Effect.provide(scenarioLayer({ emissionsFault: permanent(404) }))))

  it.effect("a scoring failure skips its company with the scorer's reason, logged; the cache stays clean", () =>
    Effect.gen(function*() {
      const { logs, report } = yield* runFor(["Apple", "Tesla"])
      const apple = skipped(report.outcomes[0]!)
      assert.strictEqual(reasonText(apple.reason), "Scoring failed: model diverged")
      assert.strictEqual(reasonCode(apple.reason), "scoring-failed")
      assert.deepStrictEqual(apple.missing, [])
      const logged = logs.find((e) => e.message === "Scoring failed")!
      assert.strictEqual(logged.annotations["detail"], "model diverged")
      assert.strictEqual(report.outcomes[1]!._tag, "Scored")
      assert.strictEqual(report.summary.cacheSize, 1)
    }).pipe(Effect.provide(scenarioLayer({ scorer: scorerFailingOn("AAPL", "fail") }))))

  it.effect("a bug in one company is reported as an internal error and logged in full; the others are kept", () =>
    Effect.gen(function*() {
      const { logs, report } = yield* runFor(["Apple", "Tesla"])
      const apple = skipped(report.outcomes[0]!)
      assert.strictEqual(reasonText(apple.reason), "Internal error: Error: scorer bug")
      assert.strictEqual(reasonCode(apple.reason), "internal-error")
      const logged = logs.find((e) => e.message === "Company failed unexpectedly")!
      assert.strictEqual(logged.level, "ERROR")
      assert.strictEqual(logged.annotations["ticker"], "AAPL")
      assert.strictEqual(report.outcomes[1]!._tag, "Scored")
    }).pipe(Effect.provide(scenarioLayer({ scorer: scorerFailingOn("AAPL", "die") }))))
})
