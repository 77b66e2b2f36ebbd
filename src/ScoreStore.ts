/**
 * The persistent index cache: scores kept across runs with the time they
 * were computed, so that a run reuses a fresh one without any API call; the
 * in-memory `IndexCache` stays the source of truth within a run. Writes are
 * batched and upserted in ticker order, so that a crash loses no committed
 * batch and writers sharing a store (SQLite, a team's PostgreSQL) never
 * deadlock.
 *
 * The design: docs/design.md#srcscorestorets
 *
 * @since 0.3.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Migrator, SqlClient } from "@effect/sql"
import { Cause, Chunk, Clock, Context, Duration, Effect, Layer, Queue, Schedule, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Rating, Scored, type Ticker } from "./Domain.js"

/**
 * A score from the store, with when it was computed (epoch milliseconds).
 *
 * @since 0.1.0
 */
export interface StoredScore {
  readonly scored: Scored
  readonly scoredAt: number
}

/**
 * A score store's operations: look up fresh scores by ticker, queue scores for batched writes, and claim the tickers this process is fetching.
 *
 * @since 0.1.0
 */
export interface ScoreStoreService {
  /** Where the scores are kept: a file path, a `postgres://` URL, or `none`. */
  readonly origin: string
  /** The scores of `tickers` computed no longer than `maxAge` ago, by ticker: one query per 500 tickers. */
  readonly fresh: (
    tickers: ReadonlyArray<Ticker>,
    maxAge: Duration.Duration
  ) => Effect.Effect<ReadonlyMap<Ticker, StoredScore>>
  /** Keeps a score computed at `scoredAt`: queued, and written with others in one transaction. */
  readonly save: (scored: Scored, scoredAt: number) => Effect.Effect<void>
  /**
   * Marks `ticker` as being fetched by this process, unless another
   * process's claim holds it and is younger than `staleMs`: whether this
   * process holds it now. The score's write releases it; `release` gives it
   * up without one.
   */
  readonly claim: (ticker: Ticker, staleMs: number) => Effect.Effect<boolean>
  readonly release: (ticker: Ticker) => Effect.Effect<void>
  /**
   * Each ticker's scores stored before `before` (epoch milliseconds), newest
   * first: what a report compares a holding's rating with. Every score
   * written is kept; the newest still wins for reuse.
   */
  readonly history: (tickers: ReadonlyArray<Ticker>, before: number) => Effect.Effect<ReadonlyMap<Ticker, ReadonlyArray<PastScore>>>
  /**
   * Keeps a portfolio's figures (as JSON) under `key` (its holdings'
   * fingerprint), and gives back the figures of the newest run of the same
   * key before this one: what a report compares the portfolio with.
   */
  readonly portfolioRun: (key: string, at: number, figures: string) => Effect.Effect<{ readonly at: number; readonly figures: string } | undefined>
}

/**
 * A score a store kept: its rating and value, and when it was computed (epoch milliseconds).
 *
 * @since 0.1.0
 */
export interface PastScore {
  readonly rating: Rating
  readonly value: number
  readonly scoredAt: number
}

/**
 * The store cannot be opened: the reason says what to fix.
 *
 * @since 0.1.0
 */
export class ScoreStoreUnavailable extends Schema.TaggedError<ScoreStoreUnavailable>()("ScoreStoreUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `score cache unavailable: ${this.reason}`
  }

  /**
   * A store at `origin` that could not be opened, for whatever `cause`.
   *
   * @since 0.1.0
   */
  static readonly at = (origin: string) => (cause: Cause.Cause<unknown>): Layer.Layer<unknown, ScoreStoreUnavailable> => {
    const error = Cause.squash(cause)
    return Layer.fail(new ScoreStoreUnavailable({ reason: `${origin}: ${error instanceof Error ? error.message : String(error)}` }))
  }
}

/**
 * Scores written per transaction, at the most. A write runs on the main
 * thread (better-sqlite3 is synchronous): measured at about 0.6 ms per
 * score, JSON encoding and upsert included (500 scores add 0.3 s to a
 * zero-latency run), so a full batch holds the event loop for about 2.5 ms.
 * Companies complete a second apart at the scenario's latencies: a batch
 * fills only in bursts.
 */
const BATCH = 4
/** Scores queued before a company waits for the writer. */
const QUEUED = 4096
/** Tickers per query (SQLite's bound on variables is far higher; this keeps each query short). */
const QUERY_CHUNK = 500

const isRating = Schema.is(Rating)
const ScoredJson = Schema.parseJson(Scored)
const encodeScored = Schema.encodeSync(ScoredJson)
const decodeScored = Schema.decodeUnknownEither(ScoredJson)

/**
 * The schema, the same for every client.
 *
 * @since 0.1.0
 */
export const migrations = Migrator.fromRecord({
  "0001_scores": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    // IF NOT EXISTS: two processes opening a new store at once may both get here.
    // BIGINT: epoch milliseconds; SQLite reads it as INTEGER
    sql`CREATE TABLE IF NOT EXISTS scores (
      ticker TEXT PRIMARY KEY NOT NULL,
      scored_at BIGINT NOT NULL,
      outcome TEXT NOT NULL
    )`),
  // a ticker some process is fetching now: another run waits for its score instead of fetching it again
  "0002_claims": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE IF NOT EXISTS claims (
      ticker TEXT PRIMARY KEY NOT NULL,
      owner TEXT NOT NULL,
      claimed_at BIGINT NOT NULL
    )`),
  // every score written, for the rating changes a report shows (the scores before it are read from \`scores\`)
  "0003_history": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE IF NOT EXISTS score_history (
      ticker TEXT NOT NULL,
      scored_at BIGINT NOT NULL,
      rating TEXT NOT NULL,
      value DOUBLE PRECISION NOT NULL,
      PRIMARY KEY (ticker, scored_at)
    )`),
  // each run's portfolio figures, by the fingerprint of its holdings: the figures a report compares with
  "0004_portfolio_runs": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE IF NOT EXISTS portfolio_runs (
      holdings TEXT NOT NULL,
      run_at BIGINT NOT NULL,
      figures TEXT NOT NULL,
      PRIMARY KEY (holdings, run_at)
    )`)
})

interface Row {
  readonly ticker: string
  /** A number from SQLite, a string from PostgreSQL (a BIGINT). */
  readonly scored_at: number | string
  readonly outcome: string
}

/** One row per ticker, the newest score, in ticker order: the order every writer locks rows in. */
const rowsOf = (batch: Chunk.Chunk<readonly [Scored, number]>) => {
  const newest = new Map<Ticker, readonly [Scored, number]>()
  for (const entry of batch) {
    const seen = newest.get(entry[0].ticker)
    if (seen === undefined || entry[1] >= seen[1]) newest.set(entry[0].ticker, entry)
  }
  return [...newest.values()]
    .sort(([a], [b]) => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0))
    .map(([scored, scoredAt]) => ({ ticker: scored.ticker, scored_at: scoredAt, outcome: encodeScored(scored) }))
}

/** The store over an open `SqlClient` whose schema is migrated. */
const make = (origin: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const queue = yield* Queue.bounded<readonly [Scored, number]>(QUEUED)

    // this process, in its claims on the tickers it is fetching
    const owner = `${os.hostname()}:${process.pid}:${randomUUID()}`

    const write = (batch: Chunk.Chunk<readonly [Scored, number]>) => {
      const rows = rowsOf(batch)
      const past = Chunk.toReadonlyArray(batch).map(([scored, scoredAt]) => ({
        ticker: scored.ticker,
        scored_at: scoredAt,
        rating: scored.score.rating,
        value: scored.score.value
      }))
      return sql`INSERT INTO scores ${sql.insert(rows)}
          ON CONFLICT(ticker) DO UPDATE SET scored_at = excluded.scored_at, outcome = excluded.outcome
          WHERE excluded.scored_at >= scores.scored_at`.pipe(
        Effect.zipRight(sql`INSERT INTO score_history ${sql.insert(past)} ON CONFLICT DO NOTHING`),
        // the score is there: whoever waits on its claim finds it
        Effect.zipRight(sql`DELETE FROM claims WHERE owner = ${owner} AND ticker IN ${sql.in(rows.map((row) => row.ticker))}`),
        Effect.asVoid,
        // a cache that cannot be written costs the next run its reuse, not this run its report
        Effect.catchAllCause((cause) => Effect.logWarning("score cache write failed", cause)),
        Effect.withSpan("ScoreStore.write", { attributes: { scores: Chunk.size(batch) } })
      )
    }

    // the writer: whatever is queued, up to a batch, in one statement; a batch taken is written whole,
    // a stop included (a client over the network would otherwise lose the batch in flight; its client bounds each query)
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.takeBetween(queue, 1, BATCH), (batch) => Effect.uninterruptible(write(batch)))))
    // runs before the writer is interrupted (finalizers run in reverse): what is left is written
    yield* Effect.addFinalizer(() => Effect.flatMap(Queue.takeAll(queue), (rest) => Chunk.isEmpty(rest) ? Effect.void : write(rest)))

    const fresh: ScoreStoreService["fresh"] = (tickers, maxAge) =>
      Effect.gen(function*() {
        const found = new Map<Ticker, StoredScore>()
        if (tickers.length === 0) return found
        const since = Math.floor((yield* Clock.currentTimeMillis) - Duration.toMillis(maxAge))
        for (const chunk of Chunk.chunksOf(Chunk.fromIterable(tickers), QUERY_CHUNK)) {
          const rows = yield* sql<Row>`SELECT ticker, scored_at, outcome FROM scores
            WHERE scored_at >= ${since} AND ticker IN ${sql.in(Chunk.toReadonlyArray(chunk))}`
          for (const row of rows) {
            const scored = decodeScored(row.outcome)
            // a row this version cannot read is a miss, and is overwritten once the company is scored again
            if (scored._tag === "Right") found.set(scored.right.ticker, { scored: scored.right, scoredAt: Number(row.scored_at) })
          }
        }
        return found
      }).pipe(
        Effect.catchAllCause((cause) => Effect.as(Effect.logWarning("score cache read failed", cause), new Map())),
        Effect.withSpan("ScoreStore.fresh", { attributes: { tickers: tickers.length } })
      )

    const claim: ScoreStoreService["claim"] = (ticker, staleMs) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        yield* sql`INSERT INTO claims (ticker, owner, claimed_at) VALUES (${ticker}, ${owner}, ${now})
          ON CONFLICT(ticker) DO UPDATE SET owner = excluded.owner, claimed_at = excluded.claimed_at
          WHERE claims.owner = excluded.owner OR claims.claimed_at < ${now - staleMs}`
        const holder = yield* sql<{ readonly owner: string }>`SELECT owner FROM claims WHERE ticker = ${ticker}`
        return holder[0]?.owner === owner
      }).pipe(
        // a store that cannot say: the company is fetched, as without claims
        Effect.catchAllCause((cause) => Effect.as(Effect.logWarning("score cache claim failed", cause), true))
      )

    const release: ScoreStoreService["release"] = (ticker) =>
      sql`DELETE FROM claims WHERE ticker = ${ticker} AND owner = ${owner}`.pipe(
        Effect.asVoid,
        Effect.catchAllCause((cause) => Effect.logWarning("score cache release failed", cause))
      )

    const history: ScoreStoreService["history"] = (tickers, before) =>
      Effect.gen(function*() {
        const found = new Map<Ticker, Array<PastScore>>()
        const keep = (ticker: Ticker, past: PastScore) => {
          const list = found.get(ticker) ?? []
          if (!list.some((p) => p.scoredAt === past.scoredAt)) list.push(past)
          found.set(ticker, list)
        }
        for (const chunk of Chunk.chunksOf(Chunk.fromIterable(tickers), QUERY_CHUNK)) {
          const wanted = Chunk.toReadonlyArray(chunk)
          const kept = yield* sql<{ readonly ticker: string; readonly scored_at: number | string; readonly rating: string; readonly value: number }>`
            SELECT ticker, scored_at, rating, value FROM score_history WHERE scored_at < ${before} AND ticker IN ${sql.in(wanted)}`
          for (const row of kept) {
            if (isRating(row.rating)) keep(row.ticker as Ticker, { rating: row.rating, value: Number(row.value), scoredAt: Number(row.scored_at) })
          }
          // a score written before the history was kept
          const newest = yield* sql<Row>`SELECT ticker, scored_at, outcome FROM scores WHERE scored_at < ${before} AND ticker IN ${sql.in(wanted)}`
          for (const row of newest) {
            const scored = decodeScored(row.outcome)
            if (scored._tag === "Right") {
              keep(scored.right.ticker, { rating: scored.right.score.rating, value: scored.right.score.value, scoredAt: Number(row.scored_at) })
            }
          }
        }
        for (const list of found.values()) list.sort((a, b) => b.scoredAt - a.scoredAt)
        return found
      }).pipe(Effect.catchAllCause((cause) => Effect.as(Effect.logWarning("score cache history read failed", cause), new Map())))

    const portfolioRun: ScoreStoreService["portfolioRun"] = (key, at, figures) =>
      Effect.gen(function*() {
        const before = yield* sql<{ readonly run_at: number | string; readonly figures: string }>`
          SELECT run_at, figures FROM portfolio_runs WHERE holdings = ${key} AND run_at < ${at} ORDER BY run_at DESC LIMIT 1`
        yield* sql`INSERT INTO portfolio_runs ${sql.insert({ holdings: key, run_at: at, figures })} ON CONFLICT DO NOTHING`
        return before[0] === undefined ? undefined : { at: Number(before[0].run_at), figures: before[0].figures }
      }).pipe(Effect.catchAllCause((cause) => Effect.as(Effect.logWarning("score cache portfolio read failed", cause), undefined)))

    return ScoreStore.of({ origin, fresh, history, portfolioRun, save: (scored, scoredAt) => Queue.offer(queue, [scored, scoredAt]), claim, release })
  })

/**
 * `mkdir -p`, one level at a time: Node's recursive `mkdirSync` spins
 * forever on some paths (under `/proc`, for one) instead of failing.
 */
const makeFolders = (folder: string): void => {
  if (fs.existsSync(folder)) return
  const parent = path.dirname(folder)
  if (parent !== folder) makeFolders(parent)
  fs.mkdirSync(folder)
}

type SqliteModule = typeof import("@effect/sql-sqlite-node")

/** The SQLite client module, once loaded (by the first store that needs it, or handed over by `useSqliteModule`). */
let sqliteModule: SqliteModule | undefined

/**
 * Hands over the SQLite client module a program has already imported: its
 * stores then open at once instead of loading it (an import is a wait, which
 * a run in virtual time would not see end). The command line does.
 *
 * @since 0.1.0
 */
export const useSqliteModule = (module: SqliteModule): void => {
  sqliteModule = module
}

const sqliteClient = Effect.suspend(() =>
  sqliteModule !== undefined
    ? Effect.succeed(sqliteModule)
    : Effect.tryPromise({
      try: () => import("@effect/sql-sqlite-node").then((module) => (sqliteModule = module)),
      catch: (cause) => new ScoreStoreUnavailable({ reason: `SQLite is not installed: ${cause instanceof Error ? cause.message : String(cause)}` })
    })
)

/** Runs the migrations, again if another process held the migration lock at that moment. */
const migrate = (SqliteMigrator: typeof import("@effect/sql-sqlite-node").SqliteMigrator) =>
  SqliteMigrator.run({ loader: migrations }).pipe(
  Effect.retry({
    while: (error) => error._tag === "MigrationError" && error.reason === "locked",
    schedule: Schedule.spaced("50 millis"),
    times: 100
  }),
  // the migrator can dump the schema with the sqlite3 command; it is never asked to, but needs the platform
  Effect.provide(NodeContext.layer)
)

/**
 * The persistent score store, with its layers: `none`, `layerSqlite` (a file), `layerSql` (any SQL client, such as a team's PostgreSQL).
 *
 * @since 0.1.0
 */
export class ScoreStore extends Context.Tag("esg-aggregator/ScoreStore")<ScoreStore, ScoreStoreService>() {
  /**
   * No persistent cache: nothing is found, nothing kept.
   *
   * @since 0.1.0
   */
  static readonly none: Layer.Layer<ScoreStore> = Layer.succeed(
    ScoreStore,
    ScoreStore.of({
      origin: "none",
      fresh: () => Effect.succeed(new Map()),
      save: () => Effect.void,
      claim: () => Effect.succeed(true),
      release: () => Effect.void,
      history: () => Effect.succeed(new Map()),
      portfolioRun: () => Effect.succeed(undefined)
    })
  )

  /**
   * The store over an `SqlClient` whose schema `migrations` made; `origin`
   * names where it keeps the scores.
   *
   * @since 0.1.0
   */
  static readonly layerSql = (origin: string): Layer.Layer<ScoreStore, never, SqlClient.SqlClient> =>
    Layer.scoped(ScoreStore, make(origin))

  /**
   * Scores in the SQLite file at `filename` (created, with its folder, when
   * missing). The SQLite client is loaded when this layer is built: a user
   * who never keeps scores in a file needs no native SQLite.
   *
   * @since 0.1.0
   */
  static readonly layerSqlite = (filename: string): Layer.Layer<ScoreStore, ScoreStoreUnavailable> =>
    Layer.unwrapEffect(Effect.map(
      Effect.try({
        try: () => makeFolders(path.dirname(path.resolve(filename))),
        catch: (cause) => new ScoreStoreUnavailable({ reason: cause instanceof Error ? cause.message : String(cause) })
      }).pipe(Effect.zipRight(sqliteClient)),
      ({ SqliteClient, SqliteMigrator }) =>
        ScoreStore.layerSql(filename).pipe(
          // in WAL mode, NORMAL still never corrupts the file; a crash of the process loses no committed write
          Layer.provide(Layer.effectDiscard(
            Effect.zipRight(migrate(SqliteMigrator), Effect.flatMap(SqlClient.SqlClient, (sql) => sql`PRAGMA synchronous = NORMAL`))
          )),
          Layer.provide(SqliteClient.layer({ filename })),
          Layer.catchAllCause(ScoreStoreUnavailable.at(filename))
        )
    ))

  /**
   * The default cache file: `$XDG_CACHE_HOME/esg-aggregator/scores.db`, else `~/.cache/esg-aggregator/scores.db`.
   *
   * @since 0.1.0
   */
  static readonly defaultPath = (env: NodeJS.ProcessEnv = process.env): string =>
    path.join(
      env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache"),
      "esg-aggregator",
      "scores.db"
    )
}
