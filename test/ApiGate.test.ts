import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { ApiGate } from "../src/ApiGate.js"
import type { Ticker } from "../src/Domain.js"

const call = (gate: ApiGate["Type"], i: number, millis: number) =>
  gate.call({ source: i % 2 === 0 ? "emissions" : "governance", ticker: `T${i}` as Ticker }, Effect.sleep(millis))

describe("ApiGate", () => {
  it.effect("holds at most `permits` calls in flight and counts every call", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(3)
      const fiber = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 10 }, (_, i) => i), (i) => call(gate, i, 1000), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("500 millis")
      assert.deepStrictEqual(yield* gate.stats, { permits: 3, calls: 3, inFlight: 3, maxInFlight: 3 })
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* gate.stats, { permits: 3, calls: 10, inFlight: 0, maxInFlight: 3 })
      // ten one-second calls through three permits: four waves
      assert.deepStrictEqual((yield* gate.grants).map((g) => g.at), [0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000])
    }))

  it.effect("an interrupted call gives its permit back at once", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(1)
      const slow = yield* Effect.fork(call(gate, 0, 60_000))
      const waiting = yield* Effect.fork(call(gate, 1, 1000))
      yield* TestClock.adjust("100 millis")
      assert.strictEqual((yield* gate.stats).inFlight, 1)
      yield* Fiber.interrupt(slow)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(waiting)
      assert.deepStrictEqual((yield* gate.grants).map((g) => `${g.ticker}@${g.at}`), ["T0@0", "T1@100"])
      assert.strictEqual((yield* gate.stats).inFlight, 0)
    }))
})
