/**
 * The CLI's application: a set of flags turned into `App.layer`'s parts.
 * The fundamentals and the scorer run on worker threads over the SQLite
 * database (or everything in-process with `--in-process`), the providers
 * over HTTP where a URL is configured, else simulated over the same
 * universe.
 *
 * @since 0.2.0
 */
import { Config, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as path from "node:path"
import * as App from "../App.js"
import { Emissions } from "../Emissions.js"
import { Fundamentals, layerOnWorkers as FundamentalsOnWorkers } from "../Fundamentals.js"
import { Governance } from "../Governance.js"
import { assetPath } from "../internal/Assets.js"
import { ApiGate, type GateUnavailable } from "../ApiGate.js"
import { layerOnWorkers as ScoreOnWorkers } from "../ScoreEngine.js"
import { Timeline } from "../Timeline.js"
import * as SqliteNode from "@effect/sql-sqlite-node"
import { ScoreStore, type ScoreStoreUnavailable, useSqliteModule } from "../ScoreStore.js"
import { Universe } from "../universe/Universe.js"
import { DatabaseWorkers, layerShared, ScoringWorkers, type WorkerStartError } from "../worker/WorkerPool.js"
import { Bounds, cores, type ReportFlags } from "./Flags.js"

// the command line keeps its scores in SQLite: loaded with it, so a store opens at once
useSqliteModule(SqliteNode)

/** API keys, from the environment only (`ESG_EMISSIONS_API_KEY`, `ESG_GOVERNANCE_API_KEY`): secrets are no flags. */
const providerKeys = Config.all({
  emissions: Config.option(Config.redacted("ESG_EMISSIONS_API_KEY")),
  governance: Config.option(Config.redacted("ESG_GOVERNANCE_API_KEY"))
})

/**
 * A team's store and gate, with `--store` (or `ESG_STORE_URL`): the scores
 * in PostgreSQL, and the API permits held there too, shared by every
 * process that calls the same providers with the same keys. The PostgreSQL
 * client is loaded only then.
 */
const teamParts = (
  flags: ReportFlags,
  keys: { readonly emissions: Option.Option<Redacted.Redacted>; readonly governance: Option.Option<Redacted.Redacted> }
) =>
  Option.map(flags.store, (url) => {
    const quota = JSON.stringify([
      Option.getOrElse(flags.emissionsUrl, () => "simulated"),
      Option.getOrElse(flags.governanceUrl, () => "simulated"),
      Option.match(keys.emissions, { onNone: () => "", onSome: Redacted.value }),
      Option.match(keys.governance, { onNone: () => "", onSome: Redacted.value })
    ])
    const load = <A, E>(make: (team: typeof import("../team/Team.js")) => Layer.Layer<A, E>) =>
      Layer.unwrapEffect(Effect.map(Effect.promise(() => import("../team/Team.js")), make))
    return {
      store: load((team) => team.TeamStore.layer(url)),
      gate: load((team) => team.TeamGate.layer({ url, permits: flags.apiConcurrency, quota }))
    }
  })

/**
 * The persistent score cache file a run uses, if any: `--cache PATH`, else
 * `ESG_CACHE` (`cacheEnv`) unless a team's store replaces it; `default`
 * names the user's cache folder. None by default, and none with
 * `--no-cache`: a plain run computes every score, as it always has.
 */
export const cachePath = (
  flags: Pick<ReportFlags, "cache" | "noCache" | "store">,
  cacheEnv: Option.Option<string> = Option.none()
): Option.Option<string> =>
  flags.noCache
    ? Option.none()
    : Option.map(
      Option.orElse(flags.cache, () => (Option.isSome(flags.store) ? Option.none() : cacheEnv)),
      (given) => (given === "default" ? ScoreStore.defaultPath() : path.resolve(given))
    )

/** The database a run reads: `--db`, else the sample database built beside the program. */
export const databasePath = (flags: Pick<ReportFlags, "db">): string =>
  path.resolve(Option.getOrElse(flags.db, () => assetPath("universe.db")))

export interface PoolSizes {
  readonly database: number
  readonly scoring: number
  /** Without `--workers` or `--db-workers`, one pool does both, growing from one thread up to this many. */
  readonly shared: number | undefined
  /** Requests a thread of the shared pool takes at once: several when neither lookups nor scores hold it for long. */
  readonly sharedConcurrency: number
}

/** A lookup that blocks no longer than this needs no thread of its own: one thread serves every lookup in turn. */
const SHORT_LOOKUP = Duration.millis(1)
/** Quick requests a thread takes at once, queued at it rather than each waiting for the one before it to come back. */
const QUICK_REQUESTS_PER_THREAD = 16

/**
 * The worker pools' sizes for a run of `companies`: never more threads than
 * companies. Asked for with `--db-workers` or `--workers`, two pools: the
 * database pool sized to the lookups that overlap (one more than the
 * permits), the scoring pool to the cores. Otherwise one pool does both: it
 * starts with one thread and grows, only while every thread is busy, up to
 * what the work can use, at most `Bounds.dbWorkers`: a thread per lookup
 * that can overlap when lookups block (one more than the permits), the
 * cores when scores run a Monte Carlo, and one thread when neither is.
 */
export const poolSizes = (
  flags: Pick<ReportFlags, "workers" | "dbWorkers" | "apiConcurrency" | "dbLatency" | "samples">,
  companies: number
): PoolSizes => {
  const most = Math.max(1, companies)
  const separate = Option.isSome(flags.workers) || Option.isSome(flags.dbWorkers)
  const blocking = Duration.greaterThan(flags.dbLatency, SHORT_LOOKUP)
  const lookups = blocking ? DatabaseWorkers.sizeFor(flags.apiConcurrency) : 1
  const scores = flags.samples > 0 ? cores : 1
  return {
    database: Math.min(most, Option.getOrElse(flags.dbWorkers, () => DatabaseWorkers.sizeFor(flags.apiConcurrency))),
    scoring: Math.min(most, Option.getOrElse(flags.workers, () => cores)),
    shared: separate ? undefined : Math.min(most, Bounds.dbWorkers, Math.max(lookups, scores)),
    sharedConcurrency: blocking || flags.samples > 0 ? 1 : QUICK_REQUESTS_PER_THREAD
  }
}

/**
 * The universe, read from the database at start-up (names resolve on this
 * thread), and the worker threads over the same database. A company waits
 * for its lookup's thread before its first request (`Fundamentals.ready`):
 * the first company that needs them starts them (a run answered from the
 * cache starts no thread), and its deadline does not run while they start
 * (about 0.2 s, which a run's clock counts). By default one pool does
 * the lookups and the scores (`layerShared`); `--db-workers` or `--workers`
 * ask for two. A pool that cannot start fails the request that started it,
 * and `poolFailure` ends the run with that reason.
 */
const workerParts = (flags: ReportFlags, sizes: PoolSizes) => {
  const dbPath = databasePath(flags)
  const pool = { dbPath, dbLatency: flags.dbLatency, samples: flags.samples, seed: flags.seed }
  const threads = sizes.shared === undefined
    ? ScoringWorkers.layerOnDemand({ ...pool, size: sizes.scoring }).pipe(
      Layer.provideMerge(DatabaseWorkers.layerOnDemand({ ...pool, size: sizes.database }))
    )
    : layerShared({ ...pool, size: sizes.shared, minSize: 1, concurrency: sizes.sharedConcurrency })
  return threads.pipe(
    Layer.provideMerge(Universe.layerFromDatabase(dbPath))
  )
}

/**
 * The application for a set of flags: the fundamentals and the scorer on
 * worker threads over the SQLite database (or everything in-process with
 * `--in-process`), the providers over HTTP where a URL is configured, else
 * simulated over the same universe. The pools are part of what it gives,
 * so that the run can watch them start (`poolFailure`).
 */
export const appLayer = (flags: ReportFlags, companies: number) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const keys = yield* Effect.orDie(providerKeys)
    const config: App.ConfigOverrides = {
      permits: flags.apiConcurrency,
      schedule: flags.schedule,
      timeout: flags.timeout,
      maxAge: flags.maxAge,
      refresh: flags.refresh,
      secondPass: flags.secondPass,
      samples: flags.samples,
      seed: flags.seed,
      latency: { fundamentals: flags.dbLatency, emissions: flags.latencyEmissions, governance: flags.latencyGovernance }
    }
    const providers = {
      ...Option.match(flags.emissionsUrl, {
        onNone: () => ({}),
        onSome: (baseUrl) => ({ emissions: Emissions.layerHttp({ baseUrl, apiKey: keys.emissions }) })
      }),
      ...Option.match(flags.governanceUrl, {
        onNone: () => ({}),
        onSome: (baseUrl) => ({ governance: Governance.layerHttp({ baseUrl, apiKey: keys.governance }) })
      })
    }
    const sizes = poolSizes(flags, companies)
    if (!flags.inProcess && sizes.scoring > cores) {
      yield* Effect.logWarning(`--workers: ${sizes.scoring} scoring threads on ${cores} cores; they will share them`)
    }
    const team = teamParts(flags, keys)
    const cacheFile = cachePath(flags, yield* Effect.orDie(Config.option(Config.string("ESG_CACHE"))))
    const store = Option.isSome(team)
      ? (flags.noCache ? {} : { store: team.value.store })
      : Option.match(cacheFile, { onNone: () => ({}), onSome: (file) => ({ store: ScoreStore.layerSqlite(file) }) })
    const permits = Option.isSome(team) ? team.value.gate : ApiGate.layer(flags.apiConcurrency)
    // the recorder's Timeline service rides along with the gate it decorates (read with serviceOption); the page
    // draws the calls on their lanes too
    const gate = { gate: flags.timeline || flags.format === "html" ? Timeline.recording(permits) : permits }
    if (flags.inProcess) return App.layer<ScoreStoreUnavailable | GateUnavailable>({ config, ...providers, ...store, ...gate })
    return Layer.unwrapEffect(Effect.map(Universe, (universe) =>
      App.layer<ScoreStoreUnavailable | GateUnavailable, DatabaseWorkers | ScoringWorkers | Universe>({
        config,
        universe,
        ...store,
        ...gate,
        // a lookup that blocks for nothing (`--db-latency 0`) is a few microseconds of SQLite: read here, not sent to a thread
        fundamentals: Duration.isZero(flags.dbLatency)
          ? Fundamentals.layerUniverse(`${databasePath(flags)} (main thread)`)
          : FundamentalsOnWorkers(databasePath(flags)),
        // a score without its Monte Carlo (`--samples 0`) costs microseconds: computed here, not sent to a thread
        ...(flags.samples === 0 ? {} : { scorer: ScoreOnWorkers() }),
        ...providers
      }))).pipe(Layer.provideMerge(workerParts(flags, sizes)))
  }))

/** Fails as soon as a worker pool of the application fails to start; never succeeds. */
export const poolFailure: Effect.Effect<never, WorkerStartError> = Effect.gen(function*() {
  const pools = [yield* Effect.serviceOption(DatabaseWorkers), yield* Effect.serviceOption(ScoringWorkers)]
  yield* Effect.all(pools.flatMap((pool) => (Option.isSome(pool) ? [pool.value.started] : [])), {
    concurrency: "unbounded",
    discard: true
  })
  return yield* Effect.never
})
