import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Fiber, Option, Ref, TestClock } from "effect"
import { ApiGate, type ApiGateService } from "../src/ApiGate.js"
import * as Deadline from "../src/Deadline.js"
import type { Ticker } from "../src/Domain.js"

/** A call of `millis` through the gate that notes when it went out. */
const call = (gate: ApiGateService, started: Ref.Ref<ReadonlyArray<string>>, i: number, millis: number, deadline?: Deadline.Deadline) =>
  Effect.flatMap(deadline === undefined ? Deadline.make("1 hour") : Effect.succeed(deadline), (deadline) =>
    gate.call(
      { source: i % 2 === 0 ? "emissions" : "governance", company: { ticker: `T${i}` as Ticker, deadline } },
      Effect.zipRight(
        Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.update(started, (s) => [...s, `T${i}@${at}`])),
        Effect.sleep(millis)
      )
    ))

describe("ApiGate", () => {
  it.effect("holds at most `permits` calls in flight, counts every call, and the longest wait for a permit", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(3)
      const started = yield* Ref.make<ReadonlyArray<string>>([])
      const fiber = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 10 }, (_, i) => i), (i) => call(gate, started, i, 1000), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("500 millis")
      assert.deepStrictEqual(yield* gate.stats, { permits: 3, calls: 3, inFlight: 3, maxInFlight: 3, longestWaitMs: 0 })
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* gate.stats, { permits: 3, calls: 10, inFlight: 0, maxInFlight: 3, longestWaitMs: 3000 })
      // ten one-second calls through three permits: four waves
      assert.deepStrictEqual(
        (yield* Ref.get(started)).map((s) => Number(s.split("@")[1])),
        [0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000]
      )
    }))

  it.effect("an interrupted call gives its permit back at once", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(1)
      const started = yield* Ref.make<ReadonlyArray<string>>([])
      const slow = yield* Effect.fork(call(gate, started, 0, 60_000))
      const waiting = yield* Effect.fork(call(gate, started, 1, 1000))
      yield* TestClock.adjust("100 millis")
      assert.strictEqual((yield* gate.stats).inFlight, 1)
      yield* Fiber.interrupt(slow)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(waiting)
      assert.deepStrictEqual(yield* Ref.get(started), ["T0@0", "T1@100"])
      assert.strictEqual((yield* gate.stats).inFlight, 0)
    }))

  it.effect("a call granted after its company's deadline has passed is not started, not counted, and frees its permit", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(1)
      const started = yield* Ref.make<ReadonlyArray<string>>([])
      const deadline = yield* Deadline.startNow("500 millis")
      const first = yield* Effect.fork(call(gate, started, 0, 1000))
      const late = yield* Effect.fork(Effect.exit(call(gate, started, 1, 1000, deadline)))
      const next = yield* Effect.fork(call(gate, started, 2, 1000))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(first)
      const refused = yield* Fiber.join(late)
      yield* Fiber.join(next)
      assert.isTrue(Exit.isFailure(refused))
      assert.deepStrictEqual(yield* Ref.get(started), ["T0@0", "T2@1000"])
      assert.deepStrictEqual(yield* gate.stats, { permits: 1, calls: 2, inFlight: 0, maxInFlight: 1, longestWaitMs: 1000 })
    }))

  it.effect("a call's grant starts its company's deadline clock", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(1)
      const started = yield* Ref.make<ReadonlyArray<string>>([])
      const deadline = yield* Deadline.make("2 seconds")
      const first = yield* Effect.fork(call(gate, started, 0, 700))
      const second = yield* Effect.fork(call(gate, started, 1, 100, deadline))
      yield* TestClock.adjust("300 millis")
      // still waiting for the permit: the clock has not started
      assert.strictEqual(yield* deadline.remainingMillis, 2000)
      yield* TestClock.adjust("500 millis")
      // granted at 700 ms: 100 ms of its 2 s gone
      assert.strictEqual(yield* deadline.remainingMillis, 1900)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
    }))

  it.effect("knows the fastest successful call per source; failures and the other source do not count", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(2)
      const deadline = yield* Deadline.make("1 hour")
      const timedCall = (source: "emissions" | "governance", millis: number, fail = false) =>
        Effect.fork(Effect.exit(gate.call(
          { source, company: { ticker: "T" as Ticker, deadline } },
          Effect.zipRight(Effect.sleep(millis), fail ? Effect.fail("boom") : Effect.void)
        )))
      assert.strictEqual(yield* gate.fastestMillis("emissions"), 0)
      const calls = [
        yield* timedCall("emissions", 300),
        yield* timedCall("governance", 50),
        yield* timedCall("emissions", 200),
        yield* timedCall("emissions", 100, true),
        yield* timedCall("emissions", 400)
      ]
      yield* TestClock.adjust("5 seconds")
      for (const call of calls) yield* Fiber.join(call)
      assert.strictEqual(yield* gate.fastestMillis("emissions"), 200)
      assert.strictEqual(yield* gate.fastestMillis("governance"), 50)
    }))

  it.effect("a faster call replaces the fastest seen; one as fast or slower does not", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(1)
      const deadline = yield* Deadline.make("1 hour")
      const call = (millis: number) => gate.call({ source: "emissions", company: { ticker: "T" as Ticker, deadline } }, Effect.sleep(millis))
      const seen: Array<number> = []
      for (const millis of [300, 300, 500, 120, 120]) {
        const fiber = yield* Effect.fork(call(millis))
        yield* TestClock.adjust(`${millis} millis`)
        yield* Fiber.join(fiber)
        seen.push(yield* gate.fastestMillis("emissions"))
      }
      assert.deepStrictEqual(seen, [300, 300, 300, 120, 120])
    }))

  it.effect("knows what a source normally takes: its slowest answer, once it has answered three times; failures do not count", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(1)
      const deadline = yield* Deadline.make("1 hour")
      const call = (millis: number, fail = false) =>
        Effect.exit(gate.call(
          { source: "governance", company: { ticker: "T" as Ticker, deadline } },
          Effect.zipRight(Effect.sleep(millis), fail ? Effect.fail("boom") : Effect.void)
        ))
      const seen: Array<string> = []
      for (const [millis, fail] of [[300, false], [900, true], [500, false], [200, false], [400, false]] as const) {
        const fiber = yield* Effect.fork(call(millis, fail))
        yield* TestClock.adjust(`${millis} millis`)
        yield* Fiber.join(fiber)
        seen.push(Option.match(yield* gate.normalMillis("governance"), { onNone: () => "none", onSome: String }))
      }
      assert.deepStrictEqual(seen, ["none", "none", "none", "500", "500"])
      assert.isTrue(Option.isNone(yield* gate.normalMillis("emissions")))
    }))

  it.effect("a granted call waits for `ready` before it goes out: its deadline starts then, and it is counted then", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(2)
      const started = yield* Ref.make<ReadonlyArray<string>>([])
      const deadline = yield* Deadline.make("2 seconds")
      const ready = yield* Effect.makeLatch(false)
      const fiber = yield* Effect.fork(gate.call(
        { source: "emissions", company: { ticker: "T" as Ticker, deadline }, ready: ready.await },
        Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.update(started, (s) => [...s, `out@${at}`]))
      ))
      yield* TestClock.adjust("700 millis")
      // the permit is held, the call not out: the deadline has not started, nothing counted
      assert.isFalse(yield* deadline.isStarted)
      assert.deepStrictEqual(yield* gate.stats, { permits: 2, calls: 0, inFlight: 0, maxInFlight: 0, longestWaitMs: 0 })
      yield* ready.open
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* Ref.get(started), ["out@700"])
      assert.strictEqual(yield* deadline.remainingMillis, 2000)
      assert.strictEqual((yield* gate.stats).calls, 1)
    }))

  it.effect("onlyIfItCanFinish: a call granted with less time left than its source's fastest answer is not sent nor counted; with as much, it is", () =>
    Effect.gen(function*() {
      const gate = yield* ApiGate.make(1)
      const started = yield* Ref.make<ReadonlyArray<string>>([])
      const sent = (name: string, millis: number) =>
        Effect.zipRight(Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.update(started, (s) => [...s, `${name}@${at}`])), Effect.sleep(millis))
      // the source's fastest answer: 400 ms (a slower one does not change it)
      yield* Effect.fork(gate.call({ source: "emissions", company: { ticker: "A" as Ticker, deadline: yield* Deadline.make("1 hour")  }}, sent("A", 400)))
      yield* TestClock.adjust("400 millis")
      const short = yield* Deadline.startNow("799 millis")
      // each is granted 400 ms into its deadline, behind a 400 ms call
      const blocker = yield* Effect.fork(gate.call({ source: "emissions", company: { ticker: "B" as Ticker, deadline: yield* Deadline.make("1 hour")  }}, sent("B", 400)))
      const refused = yield* Effect.fork(Effect.exit(gate.call({ source: "emissions", company: { ticker: "C" as Ticker, deadline: short }, onlyIfItCanFinish: true }, sent("C", 400))))
      yield* TestClock.adjust("400 millis")
      yield* Fiber.join(blocker)
      const exit = yield* Fiber.join(refused)
      assert.isTrue(Exit.isFailure(exit) && Cause.failureOption(exit.cause).pipe(Option.map((e) => e._tag), Option.getOrUndefined) === "DeadlinePassed")
      const enough = yield* Deadline.startNow("800 millis")
      const blocker2 = yield* Effect.fork(gate.call({ source: "emissions", company: { ticker: "D" as Ticker, deadline: yield* Deadline.make("1 hour")  }}, sent("D", 400)))
      yield* TestClock.adjust("0 millis")
      const fits = yield* Effect.fork(gate.call({ source: "emissions", company: { ticker: "E" as Ticker, deadline: enough }, onlyIfItCanFinish: true }, sent("E", 400)))
      yield* TestClock.adjust("800 millis")
      yield* Fiber.join(blocker2)
      yield* Fiber.join(fits)
      assert.deepStrictEqual(yield* Ref.get(started), ["A@0", "B@400", "D@800", "E@1200"])
      assert.strictEqual((yield* gate.stats).calls, 4)
    }))
})
