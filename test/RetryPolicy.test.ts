import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { Aggregator, type RunOptions } from "../src/Aggregator.js"
import { reasonText, SourceError, type Ticker } from "../src/Domain.js"
import { parseRetryAfter } from "../src/internal/HttpProvider.js"
import { Evidence, scenarioLayer } from "./fixtures/Scenario.js"

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

  it.effect("holds no permit during the backoff: others' calls run while it waits", () =>
    Effect.gen(function*() {
      const { grants, report } = yield* runFor(["Apple", "Microsoft"])
      // one permit: AAPL's throttled call ends at 0.1 s, and its governance call takes the permit at once
      assert.deepStrictEqual(grants, [
        "0 AAPL emissions",
        "100 AAPL governance",
        "300 MSFT emissions",
        "600 MSFT governance",
        "1100 AAPL emissions"
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
        assert.deepStrictEqual(apple.missing, ["emissions", "governance"])
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
