/**
 * Retries of external calls inside a company's deadline, as a `Schedule`
 * for `Effect.retry`: transient failures only (connection errors, 5xx, 429),
 * jittered exponential backoff, `Retry-After` honoured, and no retry started
 * that could not finish before the deadline. The gate checks and counts
 * each attempt on its own, but the call holds its one permit through the
 * backoff waits too (see `ApiGate`).
 *
 * @since 0.1.0
 */
import { Duration, Effect, Metric, Ref, Schedule } from "effect"
import type { Deadline, DeadlinePassed } from "./Deadline.js"
import type { SourceError } from "./Domain.js"
import { retries } from "./Metrics.js"

/**
 * How an external call's transient failures are retried: the attempts in all, the first backoff, and the longest backoff.
 *
 * @since 0.1.0
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number
  /** Backoff before the second attempt; doubles for each later one, jittered ±50 %. */
  readonly baseDelay: Duration.DurationInput
  /** Upper bound of one backoff (a `Retry-After` is honoured even when longer). */
  readonly maxDelay: Duration.DurationInput
}

/**
 * Up to 4 attempts in all, the backoff starting at 200 ms and doubling up to 2 s, each wait jittered ±50 %.
 *
 * @since 0.1.0
 */
export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 4, baseDelay: "200 millis", maxDelay: "2 seconds" }

/**
 * What one attempt of an external call can fail with.
 *
 * @since 0.1.0
 */
export type CallError = SourceError | DeadlinePassed

const isTransient = (error: CallError): boolean => error._tag === "SourceError" && error.retryable === true

/**
 * The retry schedule of one call: `deadline` is the company's, and
 * `minDurationMs` how long a request to this source takes at the least, so
 * that a retry is started only if it can still finish in time.
 *
 * @since 0.1.0
 */
export const retrySchedule = (
  policy: RetryPolicy,
  options: { readonly deadline: Deadline; readonly minDurationMs: Effect.Effect<number> }
): Schedule.Schedule<Duration.Duration, CallError> =>
  Schedule.exponential(policy.baseDelay).pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.decode(policy.maxDelay))),
    Schedule.jitteredWith({ min: 0.5, max: 1.5 }),
    Schedule.zipRight(Schedule.identity<CallError>()),
    Schedule.modifyDelay((error, delay) =>
      error._tag === "SourceError" && error.retryAfterMs !== undefined ? Duration.millis(error.retryAfterMs) : delay
    ),
    // whole milliseconds: clocks (the TestClock included) count in them
    Schedule.modifyDelay((_, delay) => Duration.millis(Math.round(Duration.toMillis(delay)))),
    Schedule.whileInput(isTransient),
    Schedule.intersect(Schedule.recurs(policy.maxAttempts - 1)),
    Schedule.delays,
    Schedule.checkEffect((_, delay) =>
      Effect.gen(function*() {
        const delayMs = Duration.toMillis(delay)
        const fits = delayMs + (yield* options.minDurationMs) <= (yield* options.deadline.remainingMillis)
        yield* fits
          ? Effect.zipRight(Metric.increment(retries), Effect.logDebug("retrying").pipe(Effect.annotateLogs({ delayMs })))
          : Effect.logDebug("retry not started: it could not finish before the deadline").pipe(
            Effect.annotateLogs({ delayMs })
          )
        return fits
      })
    )
  )

/**
 * Runs `attempt`, retried on `retrySchedule` after a transient failure. The
 * schedule and its driver are built only once an attempt has failed: the
 * first failure is handed to `Effect.retry` as its first attempt's, so the
 * schedule sees it (its `Retry-After`, its count) exactly as if it had
 * driven the attempt from the start, and a call that succeeds at once pays
 * for no retry machinery.
 *
 * @since 0.1.0
 */
export const withRetries = <A>(
  attempt: Effect.Effect<A, CallError>,
  policy: RetryPolicy,
  options: { readonly deadline: Deadline; readonly minDurationMs: Effect.Effect<number> }
): Effect.Effect<A, CallError> =>
  Effect.catchIf(attempt, isTransient, (first) =>
    Effect.flatMap(Ref.make(true), (replay) =>
      Effect.retry(
        Effect.flatMap(Ref.getAndSet(replay, false), (fresh) => (fresh ? Effect.fail(first) : attempt)),
        retrySchedule(policy, options)
      )))
