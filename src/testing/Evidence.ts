/**
 * What a test of a pipeline asserts about time: every request, grant and
 * arrival of every company's sources, at its virtual millisecond, and the
 * facts read off them (the makespan, the calls in flight at each instant,
 * each company's first request and last arrival).
 *
 * @since 0.1.0
 */
import { Chunk, Clock, Effect, Ref } from "effect"
import type { Source, Ticker } from "../Domain.js"

/**
 * One thing that happened to one company's source, at a virtual (or wall-clock) millisecond.
 *
 * @since 0.1.0
 */
export interface Event {
  readonly at: number
  readonly ticker: Ticker
  readonly source: Source
  /**
   * asked: a call asked the gate for a permit; held: it got one; granted: it went out under it (at once, but on a
   * turn taken again, where a call holds its permit until the company's other call holds one too); released: a
   * call that went out ended (its data came, or it failed, or it was interrupted); withdrawn: it ended without
   * going out (interrupted while waiting, or refused after its deadline); started: an ungated request went out;
   * arrived: the data came; faulted: a fault was injected into a request.
   */
  readonly kind: "asked" | "held" | "granted" | "released" | "withdrawn" | "started" | "arrived" | "faulted"
}

/**
 * The record the recording layers of `esg-aggregator/testing` keep, in the order things happened.
 *
 * @since 0.1.0
 */
export class Evidence extends Effect.Service<Evidence>()("esg-aggregator/testing/Evidence", {
  effect: Effect.map(Ref.make(Chunk.empty<Event>()), (events) => {
    const record = (ticker: Ticker, source: Source, kind: Event["kind"]) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.update(events, Chunk.append<Event>({ at, ticker, source, kind })))
    return {
      record,
      events: Effect.map(Ref.get(events), Chunk.toReadonlyArray),
      /** Every grant so far, in grant order, as `at ticker source`. */
      grants: Effect.map(Ref.get(events), (all) =>
        Chunk.toReadonlyArray(all).filter((e) => e.kind === "granted").map((e) => `${e.at} ${e.ticker} ${e.source}`)),
      /** The tickers a fault was injected into. */
      faulted: Effect.map(Ref.get(events), (all) =>
        new Set(Chunk.toReadonlyArray(all).filter((e) => e.kind === "faulted").map((e) => e.ticker)))
    } as const
  })
}) {}

/**
 * From the first request (a grant or an ungated start) to the last arrival, in milliseconds; 0 when nothing arrived.
 *
 * @since 0.1.0
 */
export const makespan = (events: ReadonlyArray<Event>): number => {
  let first = Infinity
  let last = -Infinity
  for (const event of events) {
    if (isRequest(event)) first = Math.min(first, event.at)
    if (event.kind === "arrived") last = Math.max(last, event.at)
  }
  return last >= first ? last - first : 0
}

const isRequest = (event: Event) => event.kind === "granted" || event.kind === "started"

/**
 * How many gated calls were out at each instant something changed: one step per instant, in time order.
 *
 * @since 0.1.0
 */
export const callsInFlight = (events: ReadonlyArray<Event>): ReadonlyArray<{ readonly at: number; readonly calls: number }> => {
  const steps: Array<{ at: number; calls: number }> = []
  // a retry goes out again under the permit its call holds: a call is out from its first grant to its release
  const out = new Set<string>()
  for (const event of [...events].sort((a, b) => a.at - b.at)) {
    const call = `${event.ticker} ${event.source}`
    if (event.kind === "granted") out.add(call)
    else if (event.kind === "released") out.delete(call)
    else continue
    const last = steps.at(-1)
    if (last !== undefined && last.at === event.at) last.calls = out.size
    else steps.push({ at: event.at, calls: out.size })
  }
  return steps
}

/**
 * The most gated calls out at any one instant.
 *
 * @since 0.1.0
 */
export const maxCallsInFlight = (events: ReadonlyArray<Event>): number =>
  callsInFlight(events).reduce((most, step) => Math.max(most, step.calls), 0)

/**
 * One company's window: its first request (a grant or an ungated start) and its last data's arrival.
 *
 * @since 0.1.0
 */
export interface CompanyWindow {
  readonly firstRequest: number
  readonly lastArrival: number | undefined
}

/**
 * Each company's window, by ticker, for the companies that sent a request.
 *
 * @since 0.1.0
 */
export const companyWindows = (events: ReadonlyArray<Event>): ReadonlyMap<string, CompanyWindow> => {
  const windows = new Map<string, { firstRequest: number; lastArrival: number | undefined }>()
  for (const event of events) {
    if (isRequest(event)) {
      const window = windows.get(event.ticker)
      if (window === undefined) windows.set(event.ticker, { firstRequest: event.at, lastArrival: undefined })
      else window.firstRequest = Math.min(window.firstRequest, event.at)
    }
  }
  for (const event of events) {
    const window = windows.get(event.ticker)
    if (event.kind === "arrived" && window !== undefined) window.lastArrival = Math.max(window.lastArrival ?? event.at, event.at)
  }
  return windows
}
