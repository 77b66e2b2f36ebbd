/**
 * The company universe the simulated providers serve their figures from,
 * and the names companies are resolved by: the in-memory sample, or whatever
 * database the run reads (so that a `--db` of your own gets matching
 * emissions and governance data).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { CompanyRecord } from "../Domain.js"
import { openUniverseDb } from "./Database.js"

/** The universe database cannot be read: the reason says what to fix. */
export class UniverseUnavailable extends Schema.TaggedError<UniverseUnavailable>()("UniverseUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

export class Universe extends Context.Tag("esg-aggregator/Universe")<Universe, ReadonlyArray<CompanyRecord>>() {
  static readonly layer = (records: ReadonlyArray<CompanyRecord>): Layer.Layer<Universe> => Layer.succeed(Universe, records)

  /**
   * Reads every company once, on this thread, at start-up: one query of a
   * few milliseconds for the 500-company sample, before any request goes
   * out, so that names resolve and the simulated providers answer while
   * the worker pools are still starting.
   */
  static readonly layerFromDatabase = (path: string): Layer.Layer<Universe, UniverseUnavailable> =>
    Layer.effect(
      Universe,
      Effect.acquireUseRelease(
        Effect.try({
          try: () => openUniverseDb(path),
          catch: (cause) => new UniverseUnavailable({ reason: cause instanceof Error ? cause.message : String(cause) })
        }),
        (db) => Effect.sync(() => db.records()),
        (db) => Effect.sync(() => db.close())
      )
    )
}
