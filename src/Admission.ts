/**
 * Admission: when each company may start, and when its deadline starts.
 * `fifo` admits one company at a time, in input order, and starts its
 * deadline at its first granted permit, so that no company burns its
 * deadline queueing behind others; `eager` starts them all at once on one
 * deadline from the run's start (the scenario's literal reading).
 *
 * The design: docs/design.md#srcadmissionts
 *
 * @since 0.2.0
 */
import { Deferred, type Duration, Effect, Option, Ref } from "effect"
import * as Deadline from "./Deadline.js"
import type { Deadline as CompanyDeadline } from "./Deadline.js"

/**
 * How companies are admitted: `fifo` (one at a time, each with its own deadline) or `eager` (all at once, one shared deadline).
 *
 * @since 0.1.0
 */
export type Schedule = "fifo" | "eager"
/**
 * Both schedules as an array: `fifo`, `eager`.
 *
 * @since 0.1.0
 */
export const schedules: ReadonlyArray<Schedule> = ["fifo", "eager"]

/**
 * The turns a company may take in all, when its neighbours' faults keep it from its data.
 *
 * @since 0.1.0
 */
export const MAX_TURNS = 3

/**
 * One turn of a company: the deadline its data must meet.
 *
 * @since 0.1.0
 */
export interface Turn {
  /** 1 for the company's first turn. */
  readonly number: number
  readonly deadline: CompanyDeadline
  /**
   * The company's calls go out only once every one holds its permit: on a
   * turn taken again, so that no neighbour can make it late again.
   */
  readonly holdAll: boolean
  /**
   * The company's next turn, first in line, with a fresh deadline: none
   * under `eager`, nor after the last of `MAX_TURNS`.
   */
  readonly next: Option.Option<Effect.Effect<Turn>>
}

/**
 * What a company is admitted with.
 *
 * @since 0.1.0
 */
export interface Admitted {
  readonly turn: Turn
  /**
   * Lets the next company in: called once the company holds permits for all
   * its calls, or has stopped asking. Idempotent.
   */
  readonly letNextIn: Effect.Effect<void>
}

/**
 * One run's admission: `admit` starts a company once the one before it has let it in (under `eager`, at once).
 *
 * @since 0.1.0
 */
export interface Admission {
  /**
   * Admits one company: `start` forks it with what it is admitted with, and
   * the returned effect completes once it is forked; the next `admit` waits
   * until this company lets the next one in.
   */
  readonly admit: <E, R>(start: (admitted: Admitted) => Effect.Effect<void, E, R>) => Effect.Effect<void, E, R>
}

/**
 * The admission of one run under `schedule`. Under `fifo` each company gets
 * a deadline of its own, started by its first request; under `eager` every
 * company shares one deadline, started now, with the run.
 *
 * @since 0.1.0
 */
export const make = (schedule: Schedule, timeout: Duration.Duration): Effect.Effect<Admission> =>
  schedule === "fifo"
    ? Effect.map(makeTurnstile, (turnstile) => ({
      admit: (start) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(
            restore(turnstile.enter("newcomer")),
            Effect.flatMap(holding(turnstile, timeout), (admitted) =>
              Effect.onExit(restore(start(admitted)), (exit) => (exit._tag === "Failure" ? admitted.letNextIn : Effect.void)))
          )
        )
    }))
    : Effect.map(Deadline.startNow(timeout), (deadline) => ({
      admit: (start) => start({ turn: { number: 1, deadline, holdAll: false, next: Option.none() }, letNextIn: Effect.void })
    }))

/**
 * What a company admitted under `fifo` holds: the turnstile, until it lets
 * the next company in. A turn taken again keeps the turnstile if the company
 * still holds it, or waits for it first in line.
 */
const holding = (turnstile: Turnstile, timeout: Duration.Duration): Effect.Effect<Admitted> =>
  Effect.gen(function*() {
    const held = yield* Ref.make(true)
    const turn = (number: number): Effect.Effect<Turn> =>
      Effect.map(Deadline.make(timeout), (deadline) => ({
        number,
        deadline,
        holdAll: number > 1,
        next: number < MAX_TURNS
          ? Option.some(Effect.uninterruptibleMask((restore) =>
            Effect.flatMap(Ref.get(held), (still) =>
              Effect.zipRight(
                still ? Effect.void : Effect.zipRight(restore(turnstile.enter("again")), Ref.set(held, true)),
                turn(number + 1)
              ))
          ))
          : Option.none()
      }))
    return {
      turn: yield* turn(1),
      letNextIn: Effect.flatMap(Ref.getAndSet(held, false), (was) => (was ? turnstile.leave : Effect.void))
    }
  })

type Lane = "again" | "newcomer"

/** One turn at a time; a company taking its turn again goes before every newcomer. */
interface Turnstile {
  readonly enter: (lane: Lane) => Effect.Effect<void>
  readonly leave: Effect.Effect<void>
}

interface TurnstileState {
  readonly busy: boolean
  readonly again: ReadonlyArray<Deferred.Deferred<void>>
  readonly newcomer: ReadonlyArray<Deferred.Deferred<void>>
}

const makeTurnstile: Effect.Effect<Turnstile> = Effect.map(
  Ref.make<TurnstileState>({ busy: false, again: [], newcomer: [] }),
  (state) => {
    const leave: Effect.Effect<void> = Effect.flatMap(
      Ref.modify(state, (s): readonly [Deferred.Deferred<void> | undefined, TurnstileState] => {
        const [next, ...rest] = s.again.length > 0 ? s.again : s.newcomer
        if (next === undefined) return [undefined, { ...s, busy: false }]
        return [next, s.again.length > 0 ? { ...s, again: rest } : { ...s, newcomer: rest }]
      }),
      (next) => (next === undefined ? Effect.void : Deferred.succeed(next, undefined))
    )
    // a waiter interrupted once the turn was handed to it hands it on
    const withdraw = (waiter: Deferred.Deferred<void>) =>
      Effect.flatMap(
        Ref.modify(state, (s) => {
          const waiting = s.again.includes(waiter) || s.newcomer.includes(waiter)
          return [
            waiting,
            waiting ? { ...s, again: s.again.filter((w) => w !== waiter), newcomer: s.newcomer.filter((w) => w !== waiter) } : s
          ] as const
        }),
        (waiting) => (waiting ? Effect.void : leave)
      )
    const enter = (lane: Lane): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Deferred.make<void>(), (waiter) =>
          Effect.flatMap(
            Ref.modify(state, (s) =>
              s.busy
                ? [false, { ...s, [lane]: [...s[lane], waiter] }] as const
                : [true, { ...s, busy: true }] as const),
            (entered) => (entered ? Effect.void : Effect.onInterrupt(restore(Deferred.await(waiter)), () => withdraw(waiter)))
          )))
    return { enter, leave }
  }
)
