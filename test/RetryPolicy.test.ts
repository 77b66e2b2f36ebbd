import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Logger, LogLevel, Random, Ref, Schedule, TestClock } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import type { RunOptions } from "../src/RunConfig.js"
import * as Deadline from "../src/Deadline.js"
import { DeadlinePassed } from "../src/Deadline.js"
import { reasonText, SourceError, type Ticker } from "../src/Domain.js"
import { type CallError, retrySchedule } from "../src/RetryPolicy.js"
import { parseRetryAfter } from "../src/internal/HttpProvider.js"
import { Evidence, makeLogCapture, scenarioLayer } from "./fixtures/Scenario.js"

const runFor = (inputs: ReadonlyArray<string>, options: RunOptions = {}) =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const fiber = yield* Effect.fork(aggregator.run(inputs, options))
    yield* TestClock.adjust("60 seconds")
    const report = yield* Fiber.join(fiber)
    const grants = yield* Effect.flatMap(Evidence, (evidence) => evidence.grants)
    return { report, grants }
  })

const throttled = (retryAfterMs: number) => (ticker: Ticker, attempt: number) =>
  ticker === "AAPL" && attempt === 1
    ? { afterMs: 100, error: new SourceError({ source: "emissions", ticker, reason: "HTTP 429", retryable: true, retryAfterMs }) }
    : undefined

const fast = { emissions: "300 millis", governance: "200 millis", fundamentals: "50 millis" } as const

describe("retries within the deadline", () => {
  it.effect("honours Retry-After: 1 exactly, and the retry succeeds", () =>
    Effect.gen(function*() {
      const { grants, report } = yield* runFor(["Apple"])
      assert.deepStrictEqual(grants, ["0 AAPL emissions", "0 AAPL governance", "1100 AAPL emissions"])
      assert.strictEqual(report.outcomes[0]!._tag, "Scored")
      assert.strictEqual(report.summary.elapsedMs, 1400)
      assert.strictEqual(report.summary.apiCalls, 3)
    }).pipe(Effect.provide(scenarioLayer({ ...fast, emissionsFault: throttled(1000) }))))

  it.effect("keeps its permit through the backoff: no later call takes it while it waits", () =>
    Effect.gen(function*() {
      const { grants, report } = yield* runFor(["Apple", "Microsoft"])
      // one permit: AAPL's throttled call ends at 0.1 s and holds the permit until its retry has answered
      assert.deepStrictEqual(grants, [
        "0 AAPL emissions",
        "1100 AAPL emissions",
        "1400 AAPL governance",
        "1600 MSFT emissions",
        "1900 MSFT governance"
      ])
      assert.deepStrictEqual(report.outcomes.map((o) => o._tag), ["Scored", "Scored"])
      assert.strictEqual(report.summary.maxApiCallsInFlight, 1)
    }).pipe(Effect.provide(scenarioLayer({ ...fast, permits: 1, emissionsFault: throttled(1000) }))))

  it.effect("does not start a retry that could not finish before the deadline", () =>
    Effect.gen(function*() {
      const { grants, report } = yield* runFor(["Apple"])
      assert.deepStrictEqual(grants, ["0 AAPL emissions", "0 AAPL governance"])
      const apple = report.outcomes[0]!
      assert.strictEqual(apple._tag, "Skipped")
      if (apple._tag === "Skipped") {
        assert.strictEqual(reasonText(apple.reason), "Data Incomplete: emissions HTTP 429")
        assert.deepStrictEqual(apple.missing, ["emissions"])
      }
      // it gave up when the 429 arrived, not when the deadline passed
      assert.strictEqual(report.summary.elapsedMs, 100)
    }).pipe(Effect.provide(scenarioLayer({ ...fast, emissionsFault: throttled(5000) }))))

  it.effect("backs off exponentially with jitter and gives up after the last attempt", () =>
    Effect.gen(function*() {
      const { grants, report } = yield* runFor(["Apple"], {
        timeout: "30 seconds",
        retry: { maxAttempts: 4, baseDelay: "1 second", maxDelay: "10 seconds" }
      })
      const emissionsGrants = grants.filter((g) => g.endsWith("emissions")).map((g) => Number(g.split(" ")[0]))
      assert.strictEqual(emissionsGrants.length, 4)
      // gaps: 0.1 s of request plus a backoff of base x 2^(n-1), jittered by 0.5..1.5
      const gaps = emissionsGrants.slice(1).map((at, i) => at - emissionsGrants[i]! - 100)
      gaps.forEach((gap, i) => {
        assert.isAtLeast(gap, 500 * 2 ** i)
        assert.isAtMost(gap, 1500 * 2 ** i)
      })
      const apple = report.outcomes[0]!
      assert.strictEqual(apple._tag === "Skipped" && reasonText(apple.reason), "Data Incomplete: emissions HTTP 503")
    }).pipe(Effect.provide(scenarioLayer({
      ...fast,
      emissionsFault: (ticker) => ({ afterMs: 100, error: new SourceError({ source: "emissions", ticker, reason: "HTTP 503", retryable: true }) })
    }))))

  it.effect("never retries a permanent failure", () =>
    Effect.gen(function*() {
      const { grants, report } = yield* runFor(["Apple"])
      assert.deepStrictEqual(grants, ["0 AAPL emissions", "0 AAPL governance"])
      const apple = report.outcomes[0]!
      assert.strictEqual(apple._tag === "Skipped" && reasonText(apple.reason), "Data Incomplete: emissions payload invalid")
    }).pipe(Effect.provide(scenarioLayer({
      ...fast,
      emissionsFault: (ticker) => ({ afterMs: 100, error: new SourceError({ source: "emissions", ticker, reason: "payload invalid" }) })
    }))))

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-29T12:00:00Z")
    assert.strictEqual(parseRetryAfter("1", now), 1000)
    assert.strictEqual(parseRetryAfter(" 30 ", now), 30_000)
    assert.strictEqual(parseRetryAfter("Sun, 29 Nov 2026 12:00:05 GMT", now), 5000)
    assert.strictEqual(parseRetryAfter("Sun, 29 Nov 2026 11:00:00 GMT", now), 0)
    assert.strictEqual(parseRetryAfter("soon", now), undefined)
    assert.strictEqual(parseRetryAfter(undefined, now), undefined)
  })
})

describe("the retry schedule", () => {
  const transient = (retryAfterMs?: number) =>
    new SourceError({ source: "emissions", ticker: "AAPL" as Ticker, reason: "HTTP 503", retryable: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
  /** The delays the schedule chooses for these failures, with `remainingMs` of the deadline left and `minMs` per request. */
  const delays = (failures: ReadonlyArray<SourceError>, options: { readonly remainingMs?: number; readonly minMs?: number; readonly seed?: number } = {}) =>
    Effect.gen(function*() {
      const deadline = yield* Deadline.startNow(options.remainingMs ?? 3_600_000)
      const schedule = retrySchedule(
        { maxAttempts: 10, baseDelay: "200 millis", maxDelay: "2 seconds" },
        { deadline, minDurationMs: Effect.succeed(options.minMs ?? 0) }
      )
      const out = yield* Schedule.run(schedule, 0, failures)
      return Chunk.toReadonlyArray(out).map((d) => Duration.toMillis(d))
    }).pipe(Effect.withRandom(Random.make(options.seed ?? 1)))

  it.effect("jitters each backoff by ±50 %, beyond a narrower default jitter", () =>
    Effect.gen(function*() {
      const firsts = yield* Effect.forEach(Array.from({ length: 40 }, (_, i) => i), (seed) =>
        Effect.map(delays([transient()], { seed }), (d) => d[0]!))
      assert.isTrue(firsts.every((d) => d >= 100 && d <= 300), firsts.join(","))
      assert.isTrue(firsts.some((d) => d < 150) && firsts.some((d) => d > 250), firsts.join(","))
    }))

  it.effect("doubles the backoff, caps it, and takes Retry-After as given", () =>
    Effect.gen(function*() {
      const backoff = yield* delays(Array.from({ length: 6 }, () => transient()))
      backoff.slice(0, 4).forEach((d, i) => assert.isTrue(d >= 100 * 2 ** i && d <= 300 * 2 ** i, `${i}: ${d}`))
      // 200 ms x 2^4 = 3.2 s, capped at 2 s before the jitter
      assert.isAtMost(backoff[4]!, 3000)
      assert.deepStrictEqual(yield* delays([transient(1234)]), [1234])
    }))

  /** How many attempts `Effect.retry` makes on the schedule when every attempt fails with `error`. */
  const attempts = (error: SourceError | DeadlinePassed, options: { readonly remainingMs: number; readonly minMs: number }) =>
    Effect.gen(function*() {
      const deadline = yield* Deadline.startNow(options.remainingMs)
      const made = yield* Ref.make(0)
      const schedule = retrySchedule(
        { maxAttempts: 2, baseDelay: "200 millis", maxDelay: "2 seconds" },
        { deadline, minDurationMs: Effect.succeed(options.minMs) }
      )
      const failing: Effect.Effect<never, CallError> = Effect.zipRight(Ref.update(made, (n) => n + 1), Effect.fail(error))
      const fiber = yield* Effect.fork(Effect.exit(Effect.retry(failing, schedule)))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      return yield* Ref.get(made)
    })

  it.effect("starts a retry that ends exactly at the deadline, not one that would end after it", () =>
    Effect.gen(function*() {
      // 900 ms of Retry-After plus a 100 ms request: exactly the 1 s left
      assert.strictEqual(yield* attempts(transient(900), { remainingMs: 1000, minMs: 100 }), 2)
      assert.strictEqual(yield* attempts(transient(950), { remainingMs: 1000, minMs: 100 }), 1)
    }))

  it.effect("logs each retry it starts, and a retry it does not start, with the delay", () =>
    Effect.gen(function*() {
      const logs = yield* makeLogCapture
      yield* attempts(transient(900), { remainingMs: 1000, minMs: 100 }).pipe(Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.Debug))
      yield* attempts(transient(950), { remainingMs: 1000, minMs: 100 }).pipe(Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.Debug))
      assert.deepStrictEqual((yield* logs.entries).map((e) => `${e.level} ${e.message} ${e.annotations["delayMs"]}`), [
        "DEBUG retrying 900",
        "DEBUG retry not started: it could not finish before the deadline 950"
      ])
    }))

  it.effect("does not retry a permanent failure or a call refused after its deadline", () =>
    Effect.gen(function*() {
      const permanent = new SourceError({ source: "emissions", ticker: "AAPL" as Ticker, reason: "HTTP 404", retryable: false })
      assert.strictEqual(yield* attempts(transient(), { remainingMs: 10_000, minMs: 0 }), 2)
      assert.strictEqual(yield* attempts(permanent, { remainingMs: 10_000, minMs: 0 }), 1)
      assert.strictEqual(yield* attempts(new DeadlinePassed(), { remainingMs: 10_000, minMs: 0 }), 1)
    }))
})
