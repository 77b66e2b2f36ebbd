/**
 * A company's data deadline, held once. Its clock starts at the company's
 * first request, whatever that request is (the first granted API permit
 * under `fifo`; the run's start under `eager`, whose companies share one
 * deadline). `Effect.timeout` on the data phase, every retry decision and
 * the gate's refusal to start a late call all read the same value, so they
 * cannot disagree.
 *
 * @since 0.2.0
 */
import { Clock, Duration, Effect, Ref, Schema } from "effect"

/**
 * A call was about to start after its company's deadline had passed: it was not started.
 *
 * @since 0.1.0
 */
export class DeadlinePassed extends Schema.TaggedError<DeadlinePassed>()("DeadlinePassed", {}) {}

/**
 * A company's data deadline: its timeout, a clock the first `begin` starts, the milliseconds left, and `expire` to end it early.
 *
 * @since 0.1.0
 */
export interface Deadline {
  readonly timeout: Duration.Duration
  /**
   * Starts the clock if it has not started (idempotent) and tells whether a
   * request may still go out now: `false` once the deadline has passed.
   */
  readonly begin: Effect.Effect<boolean>
  /** Waits until the clock has started. */
  readonly started: Effect.Effect<void>
  /** Whether the clock has started (without starting it). */
  readonly isStarted: Effect.Effect<boolean>
  /** Milliseconds left (0 when passed); the whole timeout before the clock starts. */
  readonly remainingMillis: Effect.Effect<number>
  /** When it passes (epoch milliseconds of the clock); infinitely far before the clock starts. */
  readonly endMillis: Effect.Effect<number>
  /**
   * Marks the deadline as passed, whatever the clock says: called when its
   * timeout fires, before the late company's calls are interrupted, so that
   * the permits they free go to no call of a company sharing this deadline.
   */
  readonly expire: Effect.Effect<void>
}

/**
 * A deadline whose clock starts at the first `begin`. One is made per
 * company, so it is built from the cheapest primitives: one `Ref` for the
 * start and the expiry, and a `Latch` that opens when the clock starts.
 *
 * @since 0.1.0
 */
export const make = (timeout: Duration.DurationInput): Effect.Effect<Deadline> =>
  Effect.sync((): Deadline => {
    const millis = Duration.toMillis(timeout)
    const state = Ref.unsafeMake<{ readonly start: number | undefined; readonly expired: boolean }>({
      start: undefined,
      expired: false
    })
    const latch = Effect.unsafeMakeLatch(false)
    return {
      timeout: Duration.millis(millis),
      begin: Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(
          Ref.modify(state, (s) =>
            s.start === undefined
              ? [{ first: true, open: !s.expired }, { ...s, start: now }]
              : [{ first: false, open: !s.expired && now < s.start + millis }, s]),
          ({ first, open }) => (first ? Effect.as(latch.open, open) : Effect.succeed(open))
        )),
      started: latch.await,
      isStarted: Effect.map(Ref.get(state), ({ start }) => start !== undefined),
      remainingMillis: Effect.flatMap(Ref.get(state), ({ start }) =>
        start === undefined
          ? Effect.succeed(millis)
          : Effect.map(Clock.currentTimeMillis, (now) => Math.max(0, start + millis - now))),
      endMillis: Effect.map(Ref.get(state), ({ start }) => (start === undefined ? Infinity : start + millis)),
      expire: Ref.update(state, (s) => ({ ...s, expired: true }))
    }
  })

/**
 * A deadline whose clock starts now: the `eager` schedule's reading.
 *
 * @since 0.1.0
 */
export const startNow = (timeout: Duration.DurationInput): Effect.Effect<Deadline> =>
  Effect.tap(make(timeout), (deadline) => deadline.begin)
