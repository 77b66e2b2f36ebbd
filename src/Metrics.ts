/**
 * The run's Effect `Metric`s: external calls and their latencies per
 * source, retries, deadline misses and cache hits. They are process-wide
 * (any metrics exporter sees them); `RunMetrics` is one run's share of
 * them, the difference between readings at its start and its end, as the
 * JSON report's `summary.metrics`.
 *
 * @since 0.3.0
 */
import { Effect, Metric, MetricBoundaries, MetricKey } from "effect"
import { type ExternalSource, externalSources } from "./Domain.js"

/** External calls that went out, per `source`. */
const apiCallsKey = MetricKey.counter("esg_api_calls", { description: "external API calls that went out", incremental: true })
/** How long each external call took, per `source` (milliseconds). */
const apiLatencyKey = MetricKey.histogram(
  "esg_api_latency",
  MetricBoundaries.fromIterable([10, 50, 100, 250, 500, 1000, 1500, 2000, 5000])
).pipe(MetricKey.tagged("time_unit", "milliseconds"))
/** Attempts after a transient failure. */
export const retries = Metric.counter("esg_retries", { description: "retries of transient provider failures", incremental: true })
/** Companies whose data missed their deadline. */
export const timeouts = Metric.counter("esg_timeouts", { description: "companies skipped at their deadline", incremental: true })
/** Turns taken again: a company that a neighbour's fault kept from its data waits its turn once more. */
export const turnsAgain = Metric.counter("esg_turns_again", {
  description: "turns companies took again after missing their data through no fault of their own",
  incremental: true
})
/** Companies answered from a cache without any call. */
export const cacheHits = Metric.counter("esg_cache_hits", { description: "companies answered from a cache", incremental: true })

/**
 * The per-source metrics, each with its tag in its key: an update finds its
 * hook at once, where `Metric.tagged` builds and hashes a tagged key on
 * every update (measured: about 140 µs of a company's run).
 */
export const bySource = {
  calls: {
    emissions: Metric.fromMetricKey(MetricKey.tagged(apiCallsKey, "source", "emissions")),
    governance: Metric.fromMetricKey(MetricKey.tagged(apiCallsKey, "source", "governance"))
  },
  latency: {
    emissions: Metric.fromMetricKey(MetricKey.tagged(apiLatencyKey, "source", "emissions")),
    governance: Metric.fromMetricKey(MetricKey.tagged(apiLatencyKey, "source", "governance"))
  }
} as const

/** One run's metrics. */
export interface RunMetrics {
  readonly apiCalls: Readonly<Record<ExternalSource, number>>
  /** Mean latency of the run's calls, per source, in milliseconds (0 without calls). */
  readonly apiLatencyMeanMs: Readonly<Record<ExternalSource, number>>
  readonly retries: number
  readonly timeouts: number
  /** Turns taken again by companies a neighbour's fault kept from their data. */
  readonly turnsAgain: number
  readonly cacheHits: number
}

interface Reading {
  readonly calls: Record<ExternalSource, number>
  readonly latency: Record<ExternalSource, { readonly count: number; readonly sum: number }>
  readonly retries: number
  readonly timeouts: number
  readonly turnsAgain: number
  readonly cacheHits: number
}

const read: Effect.Effect<Reading> = Effect.gen(function*() {
  const calls = {} as Record<ExternalSource, number>
  const latency = {} as Record<ExternalSource, { count: number; sum: number }>
  for (const source of externalSources) {
    calls[source] = (yield* Metric.value(bySource.calls[source])).count
    const histogram = yield* Metric.value(bySource.latency[source])
    latency[source] = { count: histogram.count, sum: histogram.sum }
  }
  return {
    calls,
    latency,
    retries: (yield* Metric.value(retries)).count,
    timeouts: (yield* Metric.value(timeouts)).count,
    turnsAgain: (yield* Metric.value(turnsAgain)).count,
    cacheHits: (yield* Metric.value(cacheHits)).count
  }
})

/** Starts measuring a run: the effect returned gives the run's metrics so far. */
export const measure: Effect.Effect<Effect.Effect<RunMetrics>> = Effect.map(read, (before) =>
  Effect.map(read, (after): RunMetrics => {
    const apiCallsOf = {} as Record<ExternalSource, number>
    const meanOf = {} as Record<ExternalSource, number>
    for (const source of externalSources) {
      apiCallsOf[source] = after.calls[source] - before.calls[source]
      const count = after.latency[source].count - before.latency[source].count
      const sum = after.latency[source].sum - before.latency[source].sum
      meanOf[source] = count === 0 ? 0 : Math.round(sum / count)
    }
    return {
      apiCalls: apiCallsOf,
      apiLatencyMeanMs: meanOf,
      retries: after.retries - before.retries,
      timeouts: after.timeouts - before.timeouts,
      turnsAgain: after.turnsAgain - before.turnsAgain,
      cacheHits: after.cacheHits - before.cacheHits
    }
  }))

/** Records one call that went out to `source` and took `millis`. */
export const recordCall = (source: ExternalSource, millis: number, succeeded: boolean): Effect.Effect<void> =>
  Effect.zipRight(
    Metric.increment(bySource.calls[source]),
    succeeded ? Metric.update(bySource.latency[source], millis) : Effect.void
  )
