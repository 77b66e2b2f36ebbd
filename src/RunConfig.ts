/**
 * What one run is asked to do, and how it is done: the schedule, the
 * deadline, the retries, the companies in flight, how old a cached score may
 * be, the second pass, when to stop early. `RunOptions` is what a caller
 * gives (every field optional); `RunConfig` the same, resolved over the
 * application's defaults (`RunDefaults`, set by `App`).
 *
 * @since 0.4.0
 */
import { Context, Duration, type Effect } from "effect"
import type { Schedule } from "./Admission.js"
import type { Reported } from "./Intake.js"
import { defaultRetryPolicy, type RetryPolicy } from "./RetryPolicy.js"
import { Scenario } from "./Scenario.js"

/**
 * What a caller may set for one run, every field optional: schedule, deadline, retries, concurrency, cache age, second pass, early stop, callbacks.
 *
 * @since 0.1.0
 */
export interface RunOptions {
  /** Default `fifo`. */
  readonly schedule?: Schedule | undefined
  /** The data deadline per company. Default 2 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Retries of transient provider failures, within the deadline. */
  readonly retry?: RetryPolicy | undefined
  /** Companies in flight at once, at most (default 64). */
  readonly concurrency?: number | undefined
  /** How old a cached score may be and still be reused without any call (default 24 hours). */
  readonly maxAge?: Duration.DurationInput | undefined
  /** Ignore cached scores: every company through the pipeline (its new score is cached). Default false. */
  readonly refresh?: boolean | undefined
  /**
   * Give the companies skipped for a transient reason (a missed deadline, a
   * connection error, 5xx, 429) one more try after the first pass, each with
   * a fresh deadline; their outcomes are marked `secondPass`. Default false.
   */
  readonly secondPass?: boolean | undefined
  /**
   * Stops the run early when it completes (a shutdown signal, say): the
   * companies in flight are interrupted, their permits released, and `run`
   * reports what finished, marked `partial`.
   */
  readonly until?: Effect.Effect<unknown> | undefined
  /** Called with each outcome as it completes, before `run` collects it (a streaming output, a progress line). */
  readonly onOutcome?: ((reported: Reported) => Effect.Effect<void>) | undefined
  /**
   * Called with the number of companies the run is asked for, duplicates
   * dropped, each time it changes as the inputs are taken (a progress line
   * counts what the report will).
   */
  readonly onRequested?: ((requested: number) => Effect.Effect<void>) | undefined
}

/**
 * Every run option, resolved.
 *
 * @since 0.1.0
 */
export interface RunConfig {
  readonly schedule: Schedule
  readonly timeout: Duration.Duration
  readonly retry: RetryPolicy
  readonly concurrency: number
  readonly maxAge: Duration.Duration
  readonly refresh: boolean
  readonly secondPass: boolean
}

/**
 * The default data deadline per company: 2 seconds (`Scenario.timeout`).
 *
 * @since 0.1.0
 */
export const DEFAULT_TIMEOUT: Duration.Duration = Scenario.timeout

/**
 * The run options when nobody sets them: `fifo`, a 2 s deadline, `defaultRetryPolicy`, 64 companies in flight, cached scores reused up to 24 hours old, no refresh, no second pass.
 *
 * @since 0.1.0
 */
export const defaultRunConfig: RunConfig = {
  schedule: "fifo",
  timeout: DEFAULT_TIMEOUT,
  retry: defaultRetryPolicy,
  concurrency: 64,
  maxAge: Duration.hours(24),
  refresh: false,
  secondPass: false
}

/**
 * `options` over `base`: every run option resolved.
 *
 * @since 0.1.0
 */
export const resolveRunConfig = (options: RunOptions, base: RunConfig): RunConfig => ({
  schedule: options.schedule ?? base.schedule,
  timeout: Duration.decode(options.timeout ?? base.timeout),
  retry: options.retry ?? base.retry,
  concurrency: Math.max(1, options.concurrency ?? base.concurrency),
  maxAge: options.maxAge === undefined ? base.maxAge : Duration.decode(options.maxAge),
  refresh: options.refresh ?? base.refresh,
  secondPass: options.secondPass ?? base.secondPass
})

/**
 * The run options an application gives its aggregator (see `App`); a run's own options override them.
 *
 * @since 0.1.0
 */
export class RunDefaults extends Context.Reference<RunDefaults>()("esg-aggregator/RunDefaults", {
  defaultValue: (): RunConfig => defaultRunConfig
}) {}
