/**
 * Shared pieces of the simulated (in-process) source layers: per-ticker
 * latencies, and a lookup in the universe that takes them.
 */
import { Duration, Effect, Option } from "effect"
import type { CompanyRecord, Ticker } from "../Domain.js"

/** One latency for every company, or one per ticker (tests use this to slow a single source down). */
export type Latency = Duration.DurationInput | ((ticker: Ticker) => Duration.DurationInput)

export const latencyOf = (latency: Latency, ticker: Ticker): Duration.Duration =>
  Duration.decode(typeof latency === "function" ? latency(ticker) : latency)

/** A lookup that takes `latency` per ticker, failing with `notFound` for a ticker the universe does not hold. */
export const simulatedLookup = <A, E>(options: {
  readonly record: (ticker: Ticker) => Option.Option<CompanyRecord>
  readonly latency: Latency
  readonly found: (record: CompanyRecord) => A
  readonly notFound: (ticker: Ticker) => E
}) => {
  // one latency for every company is decoded once, not per call
  const latency = typeof options.latency === "function" ? options.latency : Duration.decode(options.latency)
  const answer = (ticker: Ticker): Effect.Effect<A, E> =>
    Effect.suspend(() =>
      Option.match(options.record(ticker), {
        onNone: () => Effect.fail(options.notFound(ticker)),
        onSome: (record) => Effect.succeed(options.found(record))
      })
    )
  return (ticker: Ticker): Effect.Effect<A, E> => {
    const wait = typeof latency === "function" ? latencyOf(latency, ticker) : latency
    // no timer at all for an instant source: a zero sleep still costs a timer round trip
    return Duration.toMillis(wait) === 0 ? answer(ticker) : Effect.zipRight(Effect.sleep(wait), answer(ticker))
  }
}
