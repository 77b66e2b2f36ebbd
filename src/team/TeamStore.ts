/**
 * The persistent score cache in PostgreSQL, shared by a team: the same
 * store as the SQLite file (`ScoreStore.layerSql`, the same statements and
 * migrations) over `@effect/sql-pg`. A score one process writes is reused by
 * every other within its `--max-age`; concurrent writers of a ticker keep
 * the newest score, and a row is replaced whole or not at all.
 *
 * @since 0.6.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { PgMigrator } from "@effect/sql-pg"
import { Effect, Layer, Schedule } from "effect"
import { migrations, ScoreStore, ScoreStoreUnavailable } from "../ScoreStore.js"
import { clientLayer } from "./Postgres.js"
import { describeUrl } from "./StoreUrl.js"

/** Whether `error` (or what caused it) is PostgreSQL saying a table or a row of the migrator's was made meanwhile. */
const madeMeanwhile = (error: unknown): boolean => {
  for (let cause = error; typeof cause === "object" && cause !== null; cause = (cause as { cause?: unknown }).cause) {
    const code = (cause as { code?: unknown }).code
    if (code === "42P07" || code === "23505") return true
  }
  return false
}

/**
 * The migrations, in a table of this program's own (the database may serve
 * others), run again if processes starting together raced to create it:
 * the loser fails once, on a duplicate.
 */
const migrate = PgMigrator.run({ loader: migrations, table: "esg_aggregator_migrations" }).pipe(
  Effect.retry({ while: madeMeanwhile, schedule: Schedule.spaced("100 millis"), times: 3 }),
  Effect.provide(NodeContext.layer)
)

/**
 * Scores in the PostgreSQL database at `url` (the table is created when missing).
 *
 * @since 0.1.0
 */
export const layer = (url: string): Layer.Layer<ScoreStore, ScoreStoreUnavailable> => {
  const origin = describeUrl(url)
  return ScoreStore.layerSql(origin).pipe(
    Layer.provide(Layer.effectDiscard(migrate)),
    Layer.provide(clientLayer(url)),
    Layer.catchAllCause(ScoreStoreUnavailable.at(origin))
  )
}
