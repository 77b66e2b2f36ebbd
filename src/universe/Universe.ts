/**
 * The company universe the simulated providers serve their figures from: the
 * in-memory sample, or whatever database the worker pool opened (so that a
 * `--db` of your own gets matching emissions and governance data).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { CompanyRecord } from "../Domain.js"
import { ListCompanies } from "../worker/Protocol.js"
import { DatabaseWorkers } from "../worker/WorkerPool.js"

export class Universe extends Context.Tag("esg-aggregator/Universe")<Universe, ReadonlyArray<CompanyRecord>>() {
  static readonly layer = (records: ReadonlyArray<CompanyRecord>): Layer.Layer<Universe> => Layer.succeed(Universe, records)

  /** Reads every company once, on a database worker. */
  static readonly layerFromWorkers: Layer.Layer<Universe, never, DatabaseWorkers> = Layer.effect(
    Universe,
    Effect.flatMap(DatabaseWorkers, (pool) => Effect.orDie(pool.executeEffect(new ListCompanies())))
  )
}
