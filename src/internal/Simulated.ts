/**
 * Shared pieces of the simulated (in-process) source layers: per-ticker
 * latencies and an index of the universe by ticker.
 */
import { Duration } from "effect"
import type { CompanyRecord, Ticker } from "../Domain.js"

/** One latency for every company, or one per ticker (tests use this to slow a single source down). */
export type Latency = Duration.DurationInput | ((ticker: Ticker) => Duration.DurationInput)

export const latencyOf = (latency: Latency, ticker: Ticker): Duration.Duration =>
  Duration.decode(typeof latency === "function" ? latency(ticker) : latency)

export const indexByTicker = (records: ReadonlyArray<CompanyRecord>): ReadonlyMap<Ticker, CompanyRecord> =>
  new Map(records.map((record) => [record.ticker, record]))
