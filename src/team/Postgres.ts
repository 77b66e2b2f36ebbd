/**
 * A team's PostgreSQL: the `@effect/sql-pg` client the shared score store
 * runs on.
 *
 * @since 0.6.0
 */
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect } from "effect"
import pg from "pg"

/** How long connecting may take before PostgreSQL counts as unreachable. */
export const CONNECT_TIMEOUT = Duration.seconds(5)
/** How long one of the store's statements may take. */
export const QUERY_TIMEOUT = Duration.seconds(10)

/**
 * The client of the shared store: a small pool (the store's batched writes
 * and its reads), connections kept alive at the TCP level so that a peer
 * that vanished is noticed, and bounds on connecting and on each statement.
 */
export const clientLayer = (url: string) =>
  PgClient.layerFromPool({
    acquire: Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new pg.Pool({
          connectionString: url,
          max: 3,
          connectionTimeoutMillis: Duration.toMillis(CONNECT_TIMEOUT),
          // a server that stopped answering must not hold a stopping run (the store's writes are uninterruptible)
          query_timeout: Duration.toMillis(QUERY_TIMEOUT),
          keepAlive: true,
          application_name: "esg-aggregator store"
        })
        // a connection that fails while idle is dropped by the pool; the next query says why
        pool.on("error", () => undefined)
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeoutOption("1 second"))
    )
  })
