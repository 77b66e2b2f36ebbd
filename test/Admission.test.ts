/**
 * Admission on its own: who is let in when, under fifo's turnstile (newcomers in input order, a company taking its
 * turn again before them), and what each turn is given.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import * as Admission from "../src/Admission.js"

const timeout = Duration.seconds(2)

/** Admits `name` and keeps what it was admitted with; the admission order is noted in `order`. */
const admitInto = (admission: Admission.Admission, order: Ref.Ref<ReadonlyArray<string>>, name: string) =>
  Effect.flatMap(Ref.make<Admission.Admitted | undefined>(undefined), (kept) =>
    Effect.as(
      admission.admit((admitted) => Effect.zipRight(Ref.set(kept, admitted), Ref.update(order, (o) => [...o, name]))),
      Effect.map(Ref.get(kept), (admitted) => admitted!)
    ).pipe(Effect.flatten))

/** An admission under `schedule`, the order things happened in, and a way to admit one company by name. */
const admitting = (schedule: Admission.Schedule) =>
  Effect.gen(function*() {
    const admission = yield* Admission.make(schedule, timeout)
    const order = yield* Ref.make<ReadonlyArray<string>>([])
    return {
      admission,
      order: Ref.get(order),
      note: (name: string) => Ref.update(order, (o) => [...o, name]),
      admit: (name: string) => admitInto(admission, order, name)
    }
  })
const fifo = admitting("fifo")

describe("Admission", () => {
  it.effect("fifo: the next company is admitted only once the current one lets it in; letting in twice lets in one", () =>
    Effect.gen(function*() {
      const { admit, order } = yield* fifo
      const a = yield* admit("A")
      const b = yield* Effect.fork(admit("B"))
      const c = yield* Effect.fork(admit("C"))
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* order, ["A"])
      yield* a.letNextIn
      yield* a.letNextIn
      const admittedB = yield* Fiber.join(b)
      yield* TestClock.adjust("1 second")
      // A let the next in twice: still only B is in
      assert.deepStrictEqual(yield* order, ["A", "B"])
      yield* admittedB.letNextIn
      yield* Fiber.join(c)
      assert.deepStrictEqual(yield* order, ["A", "B", "C"])
    }))

  it.effect("fifo: a company taking its turn again goes before every newcomer waiting", () =>
    Effect.gen(function*() {
      const { admit, note, order } = yield* fifo
      const a = yield* admit("A")
      yield* a.letNextIn
      const b = yield* admit("B")
      // C waits behind B; then A, which had let its turn go, asks for another
      const c = yield* Effect.fork(admit("C"))
      yield* TestClock.adjust("10 millis")
      const again = yield* Effect.fork(Effect.tap(Option.getOrThrow(a.turn.next), () => note("A again")))
      yield* TestClock.adjust("10 millis")
      yield* b.letNextIn
      const turn = yield* Fiber.join(again)
      assert.deepStrictEqual(yield* order, ["A", "B", "A again"])
      assert.strictEqual(turn.number, 2)
      yield* a.letNextIn
      yield* Fiber.join(c)
      assert.deepStrictEqual(yield* order, ["A", "B", "A again", "C"])
    }))

  it.effect("fifo: a company still holding its turn takes the next one at once, and keeps it", () =>
    Effect.gen(function*() {
      const { admit, order } = yield* fifo
      const a = yield* admit("A")
      const b = yield* Effect.fork(admit("B"))
      const second = yield* Option.getOrThrow(a.turn.next)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* order, ["A"])
      yield* a.letNextIn
      yield* Fiber.join(b)
      assert.deepStrictEqual(yield* order, ["A", "B"])
      assert.strictEqual(second.number, 2)
    }))

  it.effect("fifo: each turn has a fresh deadline, not started; the first sends at once, later ones hold all their permits; three in all", () =>
    Effect.gen(function*() {
      const { admit } = yield* fifo
      const a = yield* admit("A")
      const first = a.turn
      yield* first.deadline.begin
      const second = yield* Option.getOrThrow(first.next)
      const third = yield* Option.getOrThrow(second.next)
      assert.deepStrictEqual([first.number, second.number, third.number], [1, 2, Admission.MAX_TURNS])
      assert.deepStrictEqual([first.holdAll, second.holdAll, third.holdAll], [false, true, true])
      assert.isTrue(Option.isNone(third.next))
      assert.isFalse(yield* second.deadline.isStarted)
      assert.notStrictEqual(second.deadline, first.deadline)
    }))

  it.effect("fifo: a newcomer interrupted while it waits gives up its place: the one behind it comes next", () =>
    Effect.gen(function*() {
      const { admit, order } = yield* fifo
      const a = yield* admit("A")
      const b = yield* Effect.fork(admit("B"))
      const c = yield* Effect.fork(admit("C"))
      yield* TestClock.adjust("10 millis")
      // B is interrupted while it waits: C comes next
      yield* Fiber.interrupt(b)
      yield* a.letNextIn
      yield* Fiber.join(c)
      assert.deepStrictEqual(yield* order, ["A", "C"])
    }))

  it.effect("fifo: a start that fails lets the next company in", () =>
    Effect.gen(function*() {
      const { admission, admit, order } = yield* fifo
      const failed = yield* Effect.either(admission.admit(() => Effect.fail("no slot")))
      assert.isTrue(failed._tag === "Left")
      yield* admit("B")
      assert.deepStrictEqual(yield* order, ["B"])
    }))

  it.effect("eager: every company at once, one deadline started with the run, no turn again", () =>
    Effect.gen(function*() {
      const { admit, order } = yield* admitting("eager")
      const a = yield* admit("A")
      const b = yield* admit("B")
      assert.deepStrictEqual(yield* order, ["A", "B"])
      assert.strictEqual(a.turn.deadline, b.turn.deadline)
      assert.isTrue(yield* a.turn.deadline.isStarted)
      assert.isTrue(Option.isNone(a.turn.next))
    }))
})
