/**
 * A team's PostgreSQL: the `@effect/sql-pg` client the shared score store
 * runs on.
 *
 * @since 0.6.0
 */
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect } from "effect"
import pg from "pg"

/**
 * How long connecting may take before PostgreSQL counts as unreachable.
 *
 * @since 0.1.0
 */
export const CONNECT_TIMEOUT = Duration.seconds(5)
/**
 * How long one of the store's statements may take.
 *
 * @since 0.1.0
 */
export const QUERY_TIMEOUT = Duration.seconds(10)

/**
 * How every connection of the team meets PostgreSQL: a bound on connecting;
 * TCP keepalives from both ends, so that a host that vanished (a closed
 * laptop, a dropped network) is noticed within about 30 s, and its session
 * ended, its locks freed, by the server; and no server-side timeout that
 * would cut a long, legitimate wait for a permit.
 *
 * @since 0.1.0
 */
export const connectionConfig = (url: string, name: string) => ({
  connectionString: url,
  connectionTimeoutMillis: Duration.toMillis(CONNECT_TIMEOUT),
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
  application_name: `esg-aggregator ${name}`,
  options: [
    "statement_timeout=0",
    "lock_timeout=0",
    "idle_session_timeout=0",
    "tcp_keepalives_idle=10",
    "tcp_keepalives_interval=5",
    "tcp_keepalives_count=3",
    // a backend waiting for a lock checks that its client is still there
    "client_connection_check_interval=5000"
  ].map((setting) => `-c ${setting}`).join(" ")
})

/**
 * The client of the shared store: a small pool (the store's batched writes
 * and its reads), each statement bounded.
 *
 * @since 0.1.0
 */
export const clientLayer = (url: string) =>
  PgClient.layerFromPool({
    acquire: Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new pg.Pool({
          ...connectionConfig(url, "store"),
          max: 3,
          // a server that stopped answering must not hold a stopping run (the store's writes are uninterruptible)
          query_timeout: Duration.toMillis(QUERY_TIMEOUT)
        })
        // a connection that fails while idle is dropped by the pool; the next query says why
        pool.on("error", () => undefined)
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption("1 second"))
    )
  })
