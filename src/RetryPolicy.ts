/**
 * Retries of external calls inside a company's deadline: jittered
 * exponential backoff, `Retry-After` honoured, and no retry started that
 * could not finish before the deadline. The caller wraps each attempt in the
 * gate, so a permit is held only while a request is in flight, never during
 * a backoff wait.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Random } from "effect"

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number
  /** Backoff before the second attempt; doubles for each later one, jittered ±50 %. */
  readonly baseDelay: Duration.DurationInput
  /** Upper bound of one backoff (a `Retry-After` is honoured even when longer). */
  readonly maxDelay: Duration.DurationInput
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 4, baseDelay: "200 millis", maxDelay: "2 seconds" }

/** What a failure says about trying again (see `RetryHints` in Domain). */
export interface Retryable {
  readonly retryable?: boolean | undefined
  readonly retryAfterMs?: number | undefined
}

/**
 * Runs `attempt` until it succeeds, fails for good, runs out of attempts, or
 * the next try could not finish by `deadlineAt` (epoch ms, read when needed)
 * given that one request takes at least `minDurationMs`.
 */
export const retryWithinDeadline = <A, E extends Retryable>(
  attempt: Effect.Effect<A, E>,
  options: {
    readonly policy: RetryPolicy
    readonly deadlineAt: Effect.Effect<number>
    readonly minDurationMs: Effect.Effect<number>
  }
): Effect.Effect<A, E> => {
  const base = Duration.toMillis(options.policy.baseDelay)
  const cap = Duration.toMillis(options.policy.maxDelay)
  const loop = (made: number): Effect.Effect<A, E> =>
    Effect.catchIf(attempt, (error) => error.retryable === true && made < options.policy.maxAttempts, (error) =>
      Effect.gen(function*() {
        const jitter = yield* Random.nextRange(0.5, 1.5)
        // whole milliseconds: clocks (the TestClock included) count in them
        const delay = Math.round(error.retryAfterMs ?? Math.min(cap, base * 2 ** (made - 1)) * jitter)
        const now = yield* Clock.currentTimeMillis
        const deadline = yield* options.deadlineAt
        const needed = yield* options.minDurationMs
        if (now + delay + needed > deadline) {
          yield* Effect.logDebug("retry not started: it could not finish before the deadline").pipe(
            Effect.annotateLogs({ attempts: made, delayMs: delay })
          )
          return yield* Effect.fail(error)
        }
        yield* Effect.logDebug("retrying").pipe(Effect.annotateLogs({ attempt: made + 1, delayMs: delay }))
        yield* Effect.sleep(Duration.millis(delay))
        return yield* loop(made + 1)
      }))
  return loop(1)
}
