/**
 * A team's API permits, held in PostgreSQL: the gate across processes and
 * hosts (`SharedPermits` of `ApiGate`).
 *
 * The permits are `permits` session-level advisory locks, slots 0 … N−1 of
 * the quota's key (a hash of the providers and their keys: processes that
 * call the same providers with the same keys share one quota). A call holds
 * one slot, on a connection of its own, while it runs, and frees it when it
 * ends, fails or is interrupted; PostgreSQL frees it when the process dies or
 * its connection drops, since a session's locks end with the session.
 *
 * The team's companies are admitted as `fifo` admits a process's, one at a
 * time, in the order they asked, without busy-looping:
 * - a newcomer (the first call of a company, which starts its deadline)
 *   queues on the quota's turnstile, a blocking advisory lock that
 *   PostgreSQL grants in the order asked, whatever the process. It holds
 *   the turnstile until its company holds permits for its other call too
 *   (or its own call ends): no other company starts in between, to take
 *   the permit its deadline needs;
 * - a continuation (a later call of a company whose deadline runs) holds
 *   the quota's priority lock shared while it looks for a slot, and a
 *   newcomer takes a slot only when it can take that lock exclusively: a
 *   started company is never kept waiting by another company's start;
 * - a waiter that finds no free slot waits for the next release, told by
 *   `NOTIFY` on the quota's channel, or `POLL` at the most: the release of a
 *   process that died sends no notice.
 *
 * Each slot is taken by one statement whose `CASE` tries the slots in turn
 * and stops at the first it gets (PostgreSQL evaluates only the branches it
 * needs). The local semaphore in front of this keeps one process from ever
 * asking for more than its `permits`.
 *
 * The guarantee: while PostgreSQL is reachable, the team's calls in flight
 * never exceed the largest `permits` among its processes. When a connection
 * fails, `lost` completes with the reason and no further permit is granted:
 * the run ends with what finished. A process that dies frees its slots when
 * PostgreSQL sees its connection close: at once on the same host, and after
 * the server's TCP keepalive across a network that drops packets silently.
 *
 * @since 0.6.0
 */
import { Deferred, Duration, Effect, Exit, FiberId, Layer, Pool, type Scope } from "effect"
import * as crypto from "node:crypto"
import pg from "pg"
import { ApiGate, GateUnavailable, type SharedPermits } from "../ApiGate.js"
import { CONNECT_TIMEOUT } from "./Postgres.js"
import { describeUrl } from "./StoreUrl.js"

/** The longest a waiter goes without looking again: the bound on noticing a dead process's release. */
export const POLL = Duration.millis(100)
/**
 * How long a slot a dead process left is kept unused: its requests were cut
 * when it died, and the provider stops counting them once it reads their
 * closed connections (as with `ABORT_GRACE`, with room for a loaded host).
 */
export const DEATH_GRACE = Duration.millis(200)

/** The advisory lock keys of a quota: its slots are 0 … N−1; these two are its own. */
const TURNSTILE = -1
const PRIORITY = -2
/** What a look for a slot answers when it took none: every slot was taken, or a newcomer gave way to a continuation. */
const NO_SLOT = -1
const GIVEN_WAY = -2

export interface TeamGateOptions {
  /** `postgres://…` */
  readonly url: string
  /** The slots this process may take: its local permits. */
  readonly permits: number
  /** What the quota is: processes with the same text share the permits (hashed; it may name secrets). */
  readonly quota: string
}

/** The quota's advisory lock key: 32 bits of the SHA-256 of its text. */
export const quotaKey = (quota: string): number => crypto.createHash("sha256").update(quota).digest().readInt32BE(0)

/** One connection of the gate: the session its slot is held in. */
interface Session {
  readonly client: pg.Client
}

/** A statement on `session`, failed with the reason; interrupted, the session is closed, and PostgreSQL frees its locks. */
const query = (session: Session, text: string, values: ReadonlyArray<unknown>, where: string) =>
  Effect.async<pg.QueryResult, GateUnavailable>((resume) => {
    session.client.query(text, [...values], (error, result) =>
      resume(error ? Effect.fail(unavailable(where, error)) : Effect.succeed(result)))
    return Effect.sync(() => void session.client.end().catch(() => undefined))
  })

const unavailable = (where: string, error: unknown) =>
  new GateUnavailable({ reason: `${where}: ${error instanceof Error ? error.message || error.name : String(error)}` })

/** A connected client whose errors go to `onError` (an unheard `error` event would end the process). */
const connect = (url: string, where: string, onError: (error: Error) => void) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const client = new pg.Client({
          connectionString: url,
          connectionTimeoutMillis: Duration.toMillis(CONNECT_TIMEOUT),
          keepAlive: true,
          application_name: "esg-aggregator gate"
        })
        client.on("error", onError)
        await client.connect()
        return client
      },
      catch: (error) => unavailable(where, error)
    }),
    (client) => Effect.promise(() => client.end().catch(() => undefined))
  )

/** The team's permits over PostgreSQL at `options.url`, for as long as the scope is open. */
export const make = (options: TeamGateOptions): Effect.Effect<SharedPermits, GateUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const where = describeUrl(options.url)
    const key = quotaKey(options.quota)
    const channel = `esg_gate_${(key >>> 0).toString(16)}`
    const lost = yield* Deferred.make<GateUnavailable>()
    const lose = (error: GateUnavailable) => Deferred.succeed(lost, error)
    const onError = (error: Error) => Deferred.unsafeDone(lost, Exit.succeed(unavailable(where, error)))

    // the notices of releases: each one opens the waiters' latch and replaces it
    let released = Deferred.unsafeMake<void>(FiberId.none)
    let notices = 0
    const listener = yield* connect(options.url, where, onError)
    listener.on("notification", () => {
      notices++
      const waiting = released
      released = Deferred.unsafeMake<void>(FiberId.none)
      Deferred.unsafeDone(waiting, Exit.void)
    })
    listener.on("end", () => onError(new Error("connection closed")))
    yield* Effect.tryPromise({ try: () => listener.query(`LISTEN ${channel}`), catch: (error) => unavailable(where, error) })

    // connections opened as calls need them, up to the permits, and closed after a minute unused
    const sessions = yield* Pool.makeWithTTL({
      acquire: Effect.map(connect(options.url, where, onError), (client): Session => ({ client })),
      min: 0,
      max: options.permits,
      timeToLive: "1 minute"
    })

    const slotCase = Array.from({ length: options.permits }, (_, slot) => `WHEN pg_try_advisory_lock($1, ${slot}) THEN ${slot}`)
      .join(" ")
    const tryContinuation = `SELECT CASE ${slotCase} ELSE ${NO_SLOT} END AS slot`
    // the priority lock, exclusive for this statement's transaction only: free unless a continuation is looking
    const tryNewcomer =
      `SELECT CASE WHEN pg_try_advisory_xact_lock($1, ${PRIORITY}) THEN CASE ${slotCase} ELSE ${NO_SLOT} END ELSE ${GIVEN_WAY} END AS slot`

    /**
     * Looks for a free slot until one is taken, waiting for a release (or
     * `POLL`) between looks. A slot that came free without a notice was a
     * dead process's: it is used only after `DEATH_GRACE`, the time the
     * provider takes to see that process's requests end.
     */
    const lookFor = (session: Session, statement: string, unannounced = false): Effect.Effect<number, GateUnavailable> =>
      Effect.suspend(() => {
        const seen = notices
        const latch = released
        return Effect.flatMap(query(session, statement, [key], where), (result) => {
          const slot = Number(result.rows[0]?.slot ?? NO_SLOT)
          if (slot >= 0) return unannounced ? Effect.as(Effect.sleep(DEATH_GRACE), slot) : Effect.succeed(slot)
          // a release since the look: look again at once
          if (notices !== seen) return lookFor(session, statement)
          return Effect.flatMap(
            Effect.race(Effect.as(Deferred.await(latch), false), Effect.as(Effect.sleep(POLL), true)),
            // every slot was taken, and one came free with no notice: its holder died
            (timedOut) => lookFor(session, statement, slot === NO_SLOT && timedOut && notices === seen)
          )
        })
      })

    /** The companies whose first call holds the turnstile, each with the signal that its later call has a slot. */
    const starting = new WeakMap<object, Deferred.Deferred<void>>()

    /**
     * A slot for a call of `company`: a continuation's, after which its
     * company's newcomer lets the turnstile go; a newcomer's, with the
     * turnstile, let go (in the scope) once the company's later call has a
     * slot. The call's end frees both, whichever comes first.
     */
    const take = (session: Session, company: object, continuation: boolean): Effect.Effect<void, GateUnavailable, Scope.Scope> =>
      continuation
        ? query(session, `SELECT pg_advisory_lock_shared($1, ${PRIORITY})`, [key], where).pipe(
          Effect.zipRight(lookFor(session, tryContinuation)),
          // the newcomers that gave way to it look again
          Effect.zipRight(query(session, `SELECT pg_advisory_unlock_shared($1, ${PRIORITY}), pg_notify($2, '')`, [key, channel], where)),
          Effect.zipRight(Effect.sync(() => {
            const newcomer = starting.get(company)
            if (newcomer !== undefined) Deferred.unsafeDone(newcomer, Exit.void)
          }))
        )
        : query(session, `SELECT pg_advisory_lock($1, ${TURNSTILE})`, [key], where).pipe(
          Effect.zipRight(lookFor(session, tryNewcomer)),
          Effect.zipRight(Effect.suspend(() => {
            const started = Deferred.unsafeMake<void>(FiberId.none)
            starting.set(company, started)
            // a statement in flight on the session is never cut: interrupted, it would close the session
            const letGo = Effect.uninterruptible(query(session, `SELECT pg_advisory_unlock($1, ${TURNSTILE})`, [key], where))
            return Effect.forkScoped(Effect.zipRight(Deferred.await(started), Effect.catchAll(letGo, lose)))
          })),
          Effect.asVoid
        )

    /** Frees everything the session holds, and tells the waiters. */
    const give = (session: Session) =>
      query(session, `SELECT pg_advisory_unlock_all(), pg_notify($1, '')`, [channel], where).pipe(
        Effect.catchAll((error) => Effect.zipRight(Pool.invalidate(sessions, session), lose(error)))
      )

    /** The gate cannot grant a permit: the run is told, and the call waits for it to end. */
    const fatal = (error: GateUnavailable) => Effect.zipRight(lose(error), Effect.never)

    const withPermit: SharedPermits["withPermit"] = (effect, { company, continuation }) =>
      Effect.scoped(Effect.gen(function*() {
        const session = yield* Effect.catchAll(Pool.get(sessions), fatal)
        yield* Effect.uninterruptibleMask((restore) =>
          restore(take(session, company, continuation)).pipe(
            // interrupted or failed while waiting: the session is closed, and with it whatever it held
            Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Pool.invalidate(sessions, session))),
            Effect.zipRight(Effect.addFinalizer(() => give(session)))
          )
        ).pipe(Effect.catchAll(fatal))
        return yield* effect
      }))

    return { origin: `${where} (team quota ${(key >>> 0).toString(16)})`, withPermit, lost: Deferred.await(lost) }
  })

/** The API gate of `options.permits` in this process, each call holding one of the team's permits too. */
export const layer = (options: TeamGateOptions): Layer.Layer<ApiGate, GateUnavailable> =>
  Layer.scoped(ApiGate, Effect.flatMap(make(options), (shared) => ApiGate.make(options.permits, shared)))
