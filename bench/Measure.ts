/**
 * Real-time measurement for the benchmark: wall time with
 * `performance.now()` and the main event loop's worst delay with
 * `perf_hooks.monitorEventLoopDelay`.
 */
import { Effect } from "effect"
import { monitorEventLoopDelay } from "node:perf_hooks"

export const now = Effect.sync(() => performance.now())

export interface Timed<A> {
  readonly value: A
  readonly ms: number
  /** CPU time of the whole process meanwhile, every thread included. */
  readonly cpuMs: number
}

/** Runs `self` and measures its wall time and the process's CPU time. */
export const timed = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<Timed<A>, E, R> =>
  Effect.gen(function*() {
    const cpu = yield* Effect.sync(() => process.cpuUsage())
    const started = yield* now
    const value = yield* self
    const ms = (yield* now) - started
    const used = yield* Effect.sync(() => process.cpuUsage(cpu))
    return { value, ms, cpuMs: (used.user + used.system) / 1000 }
  })

/** The histogram's sampling interval, in milliseconds. */
export const LOOP_RESOLUTION_MS = 10

/**
 * Runs `self` while sampling the main event loop; `maxDelayMs` is the
 * histogram's raw maximum: the longest gap between two runs of its 10 ms
 * timer, so an idle loop already reads about 10 ms (Node records the whole
 * interval, not the excess over it).
 */
export const withLoopDelay = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<{ readonly value: A; readonly maxDelayMs: number }, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
      histogram.enable()
      return histogram
    }),
    (histogram) =>
      Effect.gen(function*() {
        // The histogram records a gap only once its timer has run before:
        // a stall that starts right after `enable()` would go unseen.
        yield* Effect.sleep(LOOP_RESOLUTION_MS * 3)
        const value = yield* self
        // ...and records a stall only when its timer finally runs after it.
        yield* Effect.sleep(LOOP_RESOLUTION_MS * 3)
        return { value, maxDelayMs: histogram.max / 1e6 }
      }),
    (histogram) => Effect.sync(() => histogram.disable())
  )

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export const mean = (values: ReadonlyArray<number>): number =>
  values.reduce((sum, value) => sum + value, 0) / values.length
