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
import { Cause, Effect, Layer, Schedule } from "effect"
import { migrations, ScoreStore, ScoreStoreUnavailable } from "../ScoreStore.js"
import { clientLayer } from "./Postgres.js"
import { describeUrl } from "./StoreUrl.js"

/**
 * The migrations, run again if they failed: processes starting together
 * may race to create the migrator's own table, and the loser fails once.
 * A server that cannot be reached fails every try within the connect bound.
 */
const migrate = PgMigrator.run({ loader: migrations }).pipe(
  Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 3 }),
  Effect.provide(NodeContext.layer)
)

/** Scores in the PostgreSQL database at `url` (the table is created when missing). */
export const layer = (url: string): Layer.Layer<ScoreStore, ScoreStoreUnavailable> => {
  const origin = describeUrl(url)
  return ScoreStore.layerSql(origin).pipe(
    Layer.provide(Layer.effectDiscard(migrate)),
    Layer.provide(clientLayer(url)),
    Layer.catchAllCause((cause) => {
      const error = Cause.squash(cause)
      const reason = error instanceof Error ? error.message : String(error)
      return Layer.fail(new ScoreStoreUnavailable({ reason: `${origin}: ${reason}` }))
    })
  )
}
