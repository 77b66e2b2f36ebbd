/**
 * The shared index cache: every scored company, keyed by ticker, behind one
 * `SynchronizedRef` so that concurrent writers can neither lose nor tear an
 * update. Only scored companies enter it; a skipped company leaves no trace.
 *
 * @since 0.1.0
 */
import { Clock, Effect, HashMap, Option, SynchronizedRef } from "effect"
import type { Scored, Ticker } from "./Domain.js"

/**
 * A cached score with its write history: `revision` counts the writes to this ticker.
 *
 * @since 0.1.0
 */
export interface CacheEntry {
  readonly value: Scored
  readonly revision: number
  readonly updatedAt: number
}

/**
 * This process's scored companies by ticker: `put` (revision counted), `get`, `entries` (sorted by ticker), `snapshot`, `size`.
 *
 * @since 0.1.0
 */
export class IndexCache extends Effect.Service<IndexCache>()("esg-aggregator/IndexCache", {
  effect: Effect.gen(function*() {
    const ref = yield* SynchronizedRef.make(HashMap.empty<Ticker, CacheEntry>())

    // `put` and `get` run once per company: plain functions rather than
    // `Effect.fn`, whose span per call costs more than the cache access itself.

    /** Stores a score; the read of the previous revision and the write are one atomic step. */
    const put = (value: Scored): Effect.Effect<CacheEntry> =>
      SynchronizedRef.modifyEffect(ref, (entries) =>
        Effect.map(Clock.currentTimeMillis, (updatedAt) => {
          const previous = HashMap.get(entries, value.ticker)
          const entry: CacheEntry = {
            value,
            revision: Option.match(previous, { onNone: () => 1, onSome: (p) => p.revision + 1 }),
            updatedAt
          }
          return [entry, HashMap.set(entries, value.ticker, entry)] as const
        }))

    const get = (ticker: Ticker): Effect.Effect<Option.Option<CacheEntry>> =>
      Effect.map(SynchronizedRef.get(ref), (entries) => HashMap.get(entries, ticker))

    const entries = Effect.map(
      SynchronizedRef.get(ref),
      (map) => Array.from(HashMap.values(map)).sort((a, b) => a.value.ticker.localeCompare(b.value.ticker))
    )

    return {
      put,
      get,
      /** All entries, sorted by ticker. */
      entries,
      /** Every entry as it stands now, for many lookups at once. */
      snapshot: SynchronizedRef.get(ref),
      size: Effect.map(SynchronizedRef.get(ref), HashMap.size)
    } as const
  })
}) {}
