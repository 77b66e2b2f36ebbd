/**
 * The run's summary: what was asked, what came of it, and how (the gate's
 * counts, the sources, the schedule, the deadline, the run's metrics),
 * assembled once the outcomes are in.
 *
 * @since 0.4.0
 */
import { Duration } from "effect"
import type { Schedule } from "./Admission.js"
import type { GateStats } from "./ApiGate.js"
import type { CompanyOutcome, Source } from "./Domain.js"
import type { RunMetrics } from "./Metrics.js"
import type { RunConfig } from "./RunConfig.js"

/**
 * A run's figures beside its outcomes: counts, elapsed time and timeout (ms), the gate's use, where data came from, cache reuse, whether it was partial.
 *
 * @since 0.1.0
 */
export interface RunSummary {
  readonly requested: number
  readonly scored: number
  readonly skipped: number
  readonly cacheSize: number
  readonly elapsedMs: number
  /** External API calls started through the gate (since the gate was built). */
  readonly apiCalls: number
  /** The most external calls the gate ever held in flight at once. */
  readonly maxApiCallsInFlight: number
  readonly apiConcurrency: number
  readonly schedule: Schedule
  readonly timeoutMs: number
  /** Where each source's data came from (`simulated`, a database path, a base URL). */
  readonly sources: Readonly<Record<Source, string>>
  /** Where the scores were computed: `main thread` or `worker threads`. */
  readonly scoring: string
  /** Outcomes answered from a cache (this process's index cache, or the persistent store) without any call. */
  readonly cached: number
  /** Where scores persist across runs: a file path, or `none`. */
  readonly cache: string
  /** The run's share of the process's metrics (`Metrics`). */
  readonly metrics: RunMetrics
  /**
   * Whether the run was stopped (`RunOptions.until`, or the gate lost) before
   * every input finished: the outcomes are what finished.
   */
  readonly partial: boolean
  /** Whose permits the calls held: `this process`, or where a team's are held. */
  readonly gate: string
  /** The longest a call waited for its permit, in milliseconds: with a team, how long the others kept this run waiting. */
  readonly longestPermitWaitMs: number
  /** Why the gate could grant no more permits, when that ended the run. */
  readonly gateLost?: string
  /** Companies given a second pass (`RunOptions.secondPass`); their outcomes are marked `secondPass`. */
  readonly secondPass: number
}

/**
 * A run's result: one outcome per distinct requested company, in input order, and the run's summary.
 *
 * @since 0.1.0
 */
export interface RunReport {
  /** One outcome per distinct requested company, in input order. */
  readonly outcomes: ReadonlyArray<CompanyOutcome>
  readonly summary: RunSummary
}

/**
 * Where things came from and went, as the services say.
 *
 * @since 0.1.0
 */
export interface Origins {
  readonly sources: Readonly<Record<Source, string>>
  readonly scoring: string
  readonly cache: string
  readonly gate: string
}

/**
 * How the run went, beside its outcomes.
 *
 * @since 0.1.0
 */
export interface RunFacts {
  readonly config: RunConfig
  readonly elapsedMs: number
  readonly cacheSize: number
  readonly gate: GateStats
  readonly metrics: RunMetrics
  readonly origins: Origins
  /** The run was stopped (`RunOptions.until`) before every input finished. */
  readonly stopped: boolean
  /** Why the gate could grant no more permits, when that ended the run. */
  readonly gateLost: string | undefined
  /**
   * The companies asked for (duplicates dropped), when a run that ended
   * early was asked for more than it reports; else the outcomes' count.
   */
  readonly requested?: number | undefined
}

/**
 * The report of `outcomes`, in input order, with their summary.
 *
 * @since 0.1.0
 */
export const summarize = (outcomes: ReadonlyArray<CompanyOutcome>, facts: RunFacts): RunReport => {
  const scored = outcomes.filter((o) => o._tag === "Scored").length
  return {
    outcomes,
    summary: {
      requested: Math.max(outcomes.length, facts.requested ?? 0),
      scored,
      skipped: outcomes.length - scored,
      cacheSize: facts.cacheSize,
      elapsedMs: facts.elapsedMs,
      apiCalls: facts.gate.calls,
      maxApiCallsInFlight: facts.gate.maxInFlight,
      apiConcurrency: facts.gate.permits,
      schedule: facts.config.schedule,
      timeoutMs: Duration.toMillis(facts.config.timeout),
      sources: facts.origins.sources,
      scoring: facts.origins.scoring,
      cached: outcomes.filter((o) => o._tag === "Scored" && o.cachedAt !== undefined).length,
      cache: facts.origins.cache,
      metrics: facts.metrics,
      partial: facts.stopped || facts.gateLost !== undefined,
      gate: facts.origins.gate,
      longestPermitWaitMs: facts.gate.longestWaitMs,
      ...(facts.gateLost === undefined ? {} : { gateLost: facts.gateLost }),
      secondPass: outcomes.filter((o) => o.secondPass === true).length
    }
  }
}

/**
 * Whether every requested company was scored.
 *
 * @since 0.1.0
 */
export const allScored = (report: RunReport): boolean => report.summary.skipped === 0
