import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as Deadline from "../src/Deadline.js"

describe("Deadline", () => {
  it.effect("starts at the first request, not before, and only once", () =>
    Effect.gen(function*() {
      const deadline = yield* Deadline.make("2 seconds")
      const waiting = yield* Effect.fork(deadline.started)
      yield* TestClock.adjust("700 millis")
      assert.strictEqual(yield* deadline.remainingMillis, 2000)
      assert.isTrue(yield* deadline.begin)
      yield* Fiber.join(waiting)
      yield* TestClock.adjust("500 millis")
      // a second request does not restart the clock
      assert.isTrue(yield* deadline.begin)
      assert.strictEqual(yield* deadline.remainingMillis, 1500)
      yield* TestClock.adjust("1500 millis")
      assert.strictEqual(yield* deadline.remainingMillis, 0)
      // at the deadline itself a request may no longer go out
      assert.isFalse(yield* deadline.begin)
    }))

  it.effect("startNow starts the clock at once", () =>
    Effect.gen(function*() {
      const deadline = yield* Deadline.startNow("1 second")
      yield* TestClock.adjust("400 millis")
      assert.strictEqual(yield* deadline.remainingMillis, 600)
    }))

  it.effect("an expired deadline refuses every request, whatever the clock says", () =>
    Effect.gen(function*() {
      const deadline = yield* Deadline.startNow("1 second")
      assert.isTrue(yield* deadline.begin)
      yield* deadline.expire
      assert.isFalse(yield* deadline.begin)
    }))
})
