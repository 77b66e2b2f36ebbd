/**
 * Shared pieces of the simulated (in-process) source layers: per-ticker
 * latencies and an index of the universe by ticker.
 */
import { Duration, Effect } from "effect"
import type { CompanyRecord, Ticker } from "../Domain.js"

/** One latency for every company, or one per ticker (tests use this to slow a single source down). */
export type Latency = Duration.DurationInput | ((ticker: Ticker) => Duration.DurationInput)

export const latencyOf = (latency: Latency, ticker: Ticker): Duration.Duration =>
  Duration.decode(typeof latency === "function" ? latency(ticker) : latency)

export const indexByTicker = (records: ReadonlyArray<CompanyRecord>): ReadonlyMap<Ticker, CompanyRecord> =>
  new Map(records.map((record) => [record.ticker, record]))

/** A lookup in the records that takes `latency` per ticker, failing with `notFound` for an unknown one. */
export const simulatedLookup = <A, E>(options: {
  readonly records: ReadonlyArray<CompanyRecord>
  readonly latency: Latency
  readonly found: (record: CompanyRecord) => A
  readonly notFound: (ticker: Ticker) => E
}) => {
  const byTicker = indexByTicker(options.records)
  // one latency for every company is decoded once, not per call
  const latency = typeof options.latency === "function" ? options.latency : Duration.decode(options.latency)
  const answer = (ticker: Ticker): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const record = byTicker.get(ticker)
      return record === undefined ? Effect.fail(options.notFound(ticker)) : Effect.succeed(options.found(record))
    })
  return (ticker: Ticker): Effect.Effect<A, E> => {
    const wait = typeof latency === "function" ? latencyOf(latency, ticker) : latency
    // no timer at all for an instant source: a zero sleep still costs a timer round trip
    return Duration.toMillis(wait) === 0 ? answer(ticker) : Effect.zipRight(Effect.sleep(wait), answer(ticker))
  }
}
