/**
 * A team's API permits, held in PostgreSQL: the gate across processes and
 * hosts (`SharedPermits` of `ApiGate`). Each permit is a session-level
 * advisory lock, so that PostgreSQL frees a dead process's slots with its
 * session; while it is reachable, the team's calls in flight never exceed
 * the largest `permits` among its processes.
 *
 * The design: docs/design.md#srcteamteamgatets
 *
 * @since 0.6.0
 */
import { Deferred, Duration, Effect, Exit, FiberId, Layer, Pool, Schedule, type Scope } from "effect"
import * as crypto from "node:crypto"
import pg from "pg"
import { ApiGate, type GateCompany, GateUnavailable, type SharedPermits } from "../ApiGate.js"
import { connectionConfig } from "./Postgres.js"
import { describeUrl } from "./StoreUrl.js"
import { durationText } from "../internal/DurationText.js"

/**
 * The longest a waiter goes without looking again: the bound on noticing a dead process's release.
 *
 * @since 0.1.0
 */
export const POLL = Duration.millis(100)
/**
 * How long a slot a dead process left is kept unused: its requests were cut
 * when it died, and the provider stops counting them once it reads their
 * closed connections (as with `ABORT_GRACE`, with room for a loaded host).
 *
 * @since 0.1.0
 */
export const DEATH_GRACE = Duration.millis(200)
/**
 * How often the gate asks PostgreSQL whether it is there, and how long it waits for the answer.
 *
 * @since 0.1.0
 */
export const HEARTBEAT = Duration.seconds(5)

/** The advisory lock keys of a quota: its slots are 0 … N−1; these two are its own. */
const TURNSTILE = -1
const PRIORITY = -2
/** What a look for a slot answers when it took none: every slot was taken, or a newcomer gave way to a continuation. */
const NO_SLOT = -1
const GIVEN_WAY = -2

/**
 * How a process joins a team's gate: the PostgreSQL URL, its slots (its local permits), and the quota text that names the shared permits.
 *
 * @since 0.1.0
 */
export interface TeamGateOptions {
  /** `postgres://…` */
  readonly url: string
  /** The slots this process may take: its local permits. */
  readonly permits: number
  /** What the quota is: processes with the same text share the permits (hashed; it may name secrets). */
  readonly quota: string
}

/**
 * The quota's advisory lock key: 32 bits of the SHA-256 of its text.
 *
 * @since 0.1.0
 */
export const quotaKey = (quota: string): number => crypto.createHash("sha256").update(quota).digest().readInt32BE(0)

/** One connection of the gate: the session its slot is held in. */
interface Session {
  readonly client: pg.Client
  /** Closed (a statement was cut, or the connection failed): the pool replaces it. */
  ended: boolean
  /** The slot it holds, or -1. */
  slot: number
}

/** A statement on `session`, failed with the reason; interrupted, the session is closed, and PostgreSQL frees its locks. */
const query = (session: Session, text: string, values: ReadonlyArray<unknown>, where: string) =>
  Effect.async<pg.QueryResult, GateUnavailable>((resume) => {
    session.client.query(text, [...values], (error, result) =>
      resume(error ? Effect.fail(unavailable(where, error)) : Effect.succeed(result)))
    return Effect.sync(() => {
      session.ended = true
      session.client.end().catch(() => undefined)
    })
  })

const unavailable = (where: string, error: unknown) =>
  new GateUnavailable({ reason: `${where}: ${error instanceof Error ? error.message || error.name : String(error)}` })

/** A connected client whose errors go to `onError` (an unheard `error` event would end the process); closed within a second. */
const connect = (url: string, where: string, onError: (error: Error) => void) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const client = new pg.Client(connectionConfig(url, "gate"))
        client.on("error", onError)
        await client.connect()
        return client
      },
      catch: (error) => unavailable(where, error)
    }),
    (client) =>
      Effect.promise(() => {
        client.removeAllListeners("end")
        return client.end().catch(() => undefined)
      }).pipe(Effect.interruptible, Effect.timeoutOption("1 second"))
  )

/**
 * The team's permits over PostgreSQL at `options.url`, for as long as the scope is open.
 *
 * @since 0.1.0
 */
export const make = (options: TeamGateOptions): Effect.Effect<SharedPermits, GateUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const where = describeUrl(options.url)
    const key = quotaKey(options.quota)
    const channel = `esg_gate_${(key >>> 0).toString(16)}`
    const lost = yield* Deferred.make<GateUnavailable>()
    const lose = (error: GateUnavailable) => Deferred.succeed(lost, error)

    // the notices of releases: each opens the waiters' latch and replaces it; a slot's own are counted
    let released = Deferred.unsafeMake<void>(FiberId.none)
    let notices = 0
    const releases: Array<number> = Array.from({ length: options.permits }, () => 0)
    // the listener is the gate's health: its failure, or a heartbeat left unanswered, means PostgreSQL is lost
    const listener = yield* connect(options.url, where, (error) => Deferred.unsafeDone(lost, Exit.succeed(unavailable(where, error))))
    listener.on("notification", (message) => {
      notices++
      const slot = Number(message.payload === "" ? NaN : message.payload)
      if (slot >= 0 && slot < releases.length) releases[slot]!++
      const waiting = released
      released = Deferred.unsafeMake<void>(FiberId.none)
      Deferred.unsafeDone(waiting, Exit.void)
    })
    listener.on("end", () => Deferred.unsafeDone(lost, Exit.succeed(unavailable(where, new Error("connection closed")))))
    yield* Effect.tryPromise({ try: () => listener.query(`LISTEN ${channel}`), catch: (error) => unavailable(where, error) })
    const heartbeat = Effect.tryPromise({ try: () => listener.query("SELECT 1"), catch: (error) => unavailable(where, error) }).pipe(
      Effect.timeoutFail({ duration: HEARTBEAT, onTimeout: () => unavailable(where, new Error(`no answer within ${durationText(HEARTBEAT)}`)) })
    )
    yield* Effect.forkScoped(Effect.catchAll(Effect.repeat(heartbeat, Schedule.spaced(HEARTBEAT)), lose))

    // connections opened as calls need them, up to the permits; one kept open
    const sessions = yield* Pool.makeWithTTL({
      acquire: Effect.suspend(() => {
        const session: Session = { client: undefined as never, ended: false, slot: -1 }
        return Effect.map(connect(options.url, where, () => void (session.ended = true)), (client) =>
          Object.assign(session, { client }))
      }),
      min: 1,
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
     * `POLL`) between looks. A slot that came free, while every slot was
     * taken, without a notice of its own release was a dead process's: it is
     * used only after `DEATH_GRACE`, the time the provider takes to see that
     * process's requests end.
     */
    const lookFor = (
      session: Session,
      statement: string,
      allTakenAt?: ReadonlyArray<number>
    ): Effect.Effect<number, GateUnavailable> =>
      Effect.suspend(() => {
        const seen = notices
        const latch = released
        return Effect.flatMap(query(session, statement, [key], where), (result) => {
          const slot = Number(result.rows[0]?.slot ?? NO_SLOT)
          if (slot >= 0) {
            session.slot = slot
            const unannounced = allTakenAt !== undefined && releases[slot] === allTakenAt[slot]
            return unannounced ? Effect.as(Effect.sleep(DEATH_GRACE), slot) : Effect.succeed(slot)
          }
          const since = allTakenAt ?? (slot === NO_SLOT ? [...releases] : undefined)
          // a release since the look: look again at once
          if (notices !== seen) return lookFor(session, statement, since)
          return Effect.zipRight(Effect.race(Deferred.await(latch), Effect.sleep(POLL)), lookFor(session, statement, since))
        })
      })

    /** The companies whose first call holds the turnstile, each with the signal that its later call has a slot. */
    const starting = new WeakMap<GateCompany, Deferred.Deferred<void>>()

    /**
     * A slot for a call of `company`: a continuation's, after which its
     * company's newcomer lets the turnstile go; a newcomer's, with the
     * turnstile, let go (in the scope) once the company's later call has a
     * slot. The call's end frees both, whichever comes first.
     */
    const take = (session: Session, company: GateCompany, continuation: boolean): Effect.Effect<void, GateUnavailable, Scope.Scope> =>
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

    /** Frees everything the session holds, and tells the waiters which slot came free. */
    const give = (session: Session) =>
      Effect.suspend(() => {
        const slot = session.slot
        session.slot = -1
        return query(session, `SELECT pg_advisory_unlock_all(), pg_notify($1, $2)`, [channel, slot < 0 ? "" : String(slot)], where)
      }).pipe(
        Effect.catchAll((error) => Effect.zipRight(Pool.invalidate(sessions, session), lose(error)))
      )

    /** The gate cannot grant a permit: the run is told, and the call waits for it to end. */
    const fatal = (error: GateUnavailable) => Effect.zipRight(lose(error), Effect.never)

    const withPermit: SharedPermits["withPermit"] = (effect, { company, continuation }) =>
      Effect.scoped(Effect.gen(function*() {
        const session = yield* Effect.catchAll(Pool.get(sessions), fatal)
        yield* Effect.uninterruptibleMask((restore) =>
          restore(take(session, company, continuation)).pipe(
            // interrupted or failed while waiting: what the session holds is freed; closed if a statement was cut
            Effect.onExit((exit) =>
              Exit.isSuccess(exit) ? Effect.void : session.ended ? Pool.invalidate(sessions, session) : give(session)
            ),
            Effect.zipRight(Effect.addFinalizer(() => give(session)))
          )
        ).pipe(Effect.catchAll(fatal))
        return yield* effect
      }))

    return { origin: `${where} (team quota ${(key >>> 0).toString(16)})`, withPermit, lost: Deferred.await(lost) }
  })

/**
 * The API gate of `options.permits` in this process, each call holding one of the team's permits too.
 *
 * @since 0.1.0
 */
export const layer = (options: TeamGateOptions): Layer.Layer<ApiGate, GateUnavailable> =>
  Layer.scoped(ApiGate, Effect.flatMap(make(options), (shared) => ApiGate.make(options.permits, shared)))
