/**
 * A deterministic test of a schedule with latencies of our own, written
 * against the public API only: virtual time (`TestClock`), so a run of
 * seconds takes milliseconds and its times are exact.
 *
 * Runs with the project's tests (`npm test`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { Aggregator, App } from "esg-aggregator"

describe("custom latencies", () => {
  it.effect("two companies through one permit, 0.5 s per call: exactly 2 s, both scored", () =>
    Effect.gen(function*() {
      const aggregator = yield* Aggregator
      const run = yield* Effect.fork(aggregator.run(["Apple", "Tesla"]))
      yield* TestClock.adjust("10 seconds")
      const report = yield* Fiber.join(run)
      assert.strictEqual(report.summary.scored, 2)
      // each company: two calls of 0.5 s in turn through the one permit
      assert.strictEqual(report.summary.elapsedMs, 2000)
      assert.strictEqual(report.summary.maxApiCallsInFlight, 1)
    }).pipe(Effect.provide(App.layer({
      config: {
        permits: 1,
        samples: 0,
        latency: { fundamentals: "0.2 seconds", emissions: "0.5 seconds", governance: "0.5 seconds" }
      }
    }))))
})
