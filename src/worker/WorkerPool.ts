/**
 * The worker pools: where blocking and CPU-heavy work runs, off the main
 * event loop (Effect 3 has no `Effect.blocking`). `DatabaseWorkers` is
 * sized to how many blocking lookups overlap, not to the cores (a blocked
 * thread uses no CPU); `ScoringWorkers`, all CPU, to the cores.
 *
 * The design: docs/design.md#srcworkerworkerpoolts
 *
 * @since 0.1.0
 */
import type { Worker as PlatformWorker } from "@effect/platform"
import type { WorkerError } from "@effect/platform/WorkerError"
import * as Worker from "@effect/platform/Worker"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { Context, Deferred, Duration, Effect, Either, Exit, Layer, type ParseResult, Schema, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as WorkerThreads from "node:worker_threads"
import { assetPath } from "../internal/Assets.js"
import { Scenario } from "../Scenario.js"
import { DEFAULT_SAMPLES, DEFAULT_SEED } from "../ScoreModel.js"
import { Ping, type WorkerConfig, type WorkerRequest } from "./Protocol.js"
import { durationText } from "../internal/DurationText.js"

/** A pool could not start: the message says what to fix. */
export class WorkerStartError extends Schema.TaggedError<WorkerStartError>()("WorkerStartError", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/** A started pool, and how many threads it has now. */
export type Pool = PlatformWorker.SerializedWorkerPool<WorkerRequest> & { readonly threads: () => number }

export interface PoolOptions {
  /** The threads; with `minSize`, the most it grows to. */
  readonly size: number
  /**
   * Given, the pool starts with this many threads and grows, up to `size`,
   * only while every thread is busy; a thread idle for a while is stopped.
   */
  readonly minSize?: number | undefined
  /**
   * Requests a thread takes at once (default 1). More than one only where
   * none blocks its thread: the others would wait behind it. Where none does,
   * they queue at the thread instead of each waiting for the one before it
   * to come back.
   */
  readonly concurrency?: number | undefined
  /** The universe database every worker opens read-only; `null` for none. */
  readonly dbPath: string | null
  /** Emulated blocking latency per fundamentals lookup (default 0.8 s, the scenario's). */
  readonly dbLatency?: Duration.DurationInput | undefined
  readonly samples?: number | undefined
  readonly seed?: number | undefined
  /** The worker entry file (default: the bundled `worker.js` built beside `dist/main.js`). */
  readonly entry?: string | undefined
  /** How long start-up may take before it is reported as failed (default 10 s). */
  readonly startTimeout?: Duration.DurationInput | undefined
}

const SQLITE_MAGIC = "SQLite format 3\u0000"

/** How long a thread a growing pool added may stay idle before it is stopped. */
const IDLE_THREAD_LIFE = Duration.seconds(30)

/**
 * Checks that `path` is a universe database, on this thread and once, before
 * any worker tries to open it: a worker that fails to open it would only be
 * respawned, every second, forever.
 */
export const checkDatabaseFile = (path: string): Effect.Effect<void, WorkerStartError> =>
  Effect.tryPromise({
    try: async () => {
      if (!fs.existsSync(path)) throw new Error(`database not found: ${path}`)
      const header = Buffer.alloc(16)
      const fd = fs.openSync(path, "r")
      const bytes = fs.readSync(fd, header, 0, 16, 0)
      fs.closeSync(fd)
      if (bytes !== 16 || header.toString("latin1") !== SQLITE_MAGIC) throw new Error(`not an SQLite database: ${path}`)
      // loaded here, not with this module: a library user who never opens a database needs no native SQLite
      const { openUniverseDb } = await import("../universe/Database.js")
      openUniverseDb(path).close()
    },
    catch: (cause) => new WorkerStartError({ reason: cause instanceof Error ? cause.message : String(cause) })
  })

/**
 * Creates a pool, once its first worker is up; the others come up in the
 * background, and requests go to whichever worker is free. `ready` has the
 * workers up so far answer once. Either step fails within `startTimeout`
 * when the workers do not come up, and the pool is then abandoned: no more
 * spawning, its threads terminated.
 */
const launchPool = (options: PoolOptions) =>
  Effect.gen(function*() {
    const entry = options.entry ?? assetPath("worker.js")
    if (!fs.existsSync(entry)) {
      return yield* new WorkerStartError({ reason: `worker entry not found: ${entry} (run npm run build)` })
    }
    if (options.dbPath !== null) yield* checkDatabaseFile(options.dbPath)
    const workerData: WorkerConfig = {
      dbPath: options.dbPath,
      dbLatencyMs: Duration.toMillis(Duration.decode(options.dbLatency ?? Scenario.latency.fundamentals)),
      samples: options.samples ?? DEFAULT_SAMPLES,
      seed: options.seed ?? DEFAULT_SEED
    }
    const startTimeout = options.startTimeout ?? Duration.seconds(10)

    // The pool respawns a failed thread every second, forever, and its start-up cannot be interrupted.
    // So it starts in a scope of its own, detached, under a timeout; if it does not come up, spawning
    // is switched off (a throwing spawn ends the respawn loop) and its threads are terminated.
    const threads = new Set<WorkerThreads.Worker>()
    let abandoned = false
    const spawn = () => {
      if (abandoned) throw new Error("worker pool abandoned after a failed start")
      // the entry is a plain bundle: the host's own flags (a TypeScript loader, say) are not the worker's
      const thread = new WorkerThreads.Worker(entry, { workerData, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2 } })
      threads.add(thread)
      thread.once("exit", () => threads.delete(thread))
      return thread
    }
    const poolScope = yield* Scope.make()
    // an abandoned pool's scope is closed in the background: its shutdown would wait for workers that never come
    yield* Effect.addFinalizer(() => (abandoned ? Effect.void : Scope.close(poolScope, Exit.void)))
    const abandon = Effect.gen(function*() {
      abandoned = true
      yield* Effect.forEach(threads, (thread) => Effect.promise(() => thread.terminate()), { discard: true })
      yield* Effect.forkDaemon(Scope.close(poolScope, Exit.void))
    })
    const bounded = <A, E extends { readonly message: string }>(effect: Effect.Effect<A, E>) =>
      effect.pipe(
        Effect.mapError((cause) => new WorkerStartError({ reason: `worker failed to start: ${cause.message}` })),
        Effect.disconnect,
        Effect.timeoutFail({
          duration: startTimeout,
          onTimeout: () => new WorkerStartError({ reason: `workers did not start within ${durationText(startTimeout)}` })
        }),
        Effect.tapError(() => abandon)
      )
    // returns once the first worker is up; the others are spawned by the pool's own background fiber
    const concurrency = options.concurrency ?? 1
    const sizing = options.minSize === undefined
      ? { size: options.size, concurrency }
      : { minSize: Math.min(options.minSize, options.size), maxSize: options.size, timeToLive: IDLE_THREAD_LIFE, concurrency }
    const created = yield* bounded(Worker.makePoolSerialized<WorkerRequest>(sizing).pipe(
      Effect.provide(NodeWorker.layer(spawn)),
      Scope.extend(poolScope)
    ))
    // every worker up so far must answer once before the pool counts as started
    const ready = bounded(created.broadcast(new Ping()))
    const pool: Pool = Object.assign(created, { threads: () => threads.size })
    return { pool, ready }
  })

/** Starts a pool and waits until every worker is up (or fails within `startTimeout`). */
export const makePool = (options: PoolOptions) =>
  Effect.flatMap(launchPool(options), ({ pool, ready }) => Effect.as(ready, pool))

/**
 * A pool as its users see it: requests, and whether it started. A pool
 * started on demand (`layerOnDemand`) takes requests at once; they wait
 * until its workers are up, and fail with `WorkerStartError` if they never
 * come up.
 */
export interface Workers {
  readonly executeEffect: <Req extends WorkerRequest>(
    request: Req
  ) => Req extends Schema.WithResult<infer A, infer _I, infer E, infer _EI, infer _R>
    ? Effect.Effect<A, E | WorkerError | ParseResult.ParseError | WorkerStartError>
    : never
  /** Succeeds once every worker has answered; fails with why they could not start. */
  readonly started: Effect.Effect<void, WorkerStartError>
  /**
   * A place on a thread, held in the scope (the pool started, or grown, if
   * no thread has one free): a request sent through it goes out at once.
   */
  readonly reserve: Effect.Effect<Reserved, WorkerStartError, Scope.Scope>
  /** The threads alive now (0 before the pool starts). */
  readonly threads: () => number
}

/** A place held on one thread: its requests go to that thread. */
export interface Reserved {
  readonly executeEffect: Workers["executeEffect"]
}

/** `pool` as its users see it; `started` watches it without starting it (by default, waiting is starting). */
const workersOf = (
  pool: Effect.Effect<Pool, WorkerStartError>,
  started: Effect.Effect<unknown, WorkerStartError> = pool
): Workers => {
  // the pool's count, once a request has reached it
  let threads = () => 0
  return {
    executeEffect: ((request: WorkerRequest) =>
      Effect.flatMap(pool, (created) => {
        threads = created.threads
        return created.executeEffect(request) as Effect.Effect<unknown, unknown>
      })) as Workers["executeEffect"],
    started: Effect.asVoid(started),
    reserve: Effect.flatMap(pool, (created) =>
      Effect.map(
        Effect.mapError(created.backing.get, (error) => new WorkerStartError({ reason: `worker failed to start: ${error.message}` })),
        (worker): Reserved => ({ executeEffect: worker.executeEffect as Workers["executeEffect"] })
      )),
    threads: () => threads()
  }
}

/**
 * A pool started by its first request (or reservation), in the background of the
 * current scope: a run that needs no worker (every company answered from a
 * cache) starts none. A request goes to the first worker that is up, without
 * waiting for the others, and fails if the pool cannot start; `started`
 * waits for every worker after the first request, and never ends if none
 * comes.
 */
const onDemandPool = (options: PoolOptions) =>
  Effect.gen(function*() {
    const pool = yield* Deferred.make<Pool, WorkerStartError>()
    const ready = yield* Deferred.make<void, WorkerStartError>()
    const scope = yield* Effect.scope
    // owned by this pool: the first request flips it, in one synchronous step
    let requested = false
    const launch = Effect.gen(function*() {
      const launched = yield* Effect.either(Scope.extend(launchPool(options), scope))
      if (Either.isLeft(launched)) {
        yield* Deferred.fail(pool, launched.left)
        return yield* Deferred.fail(ready, launched.left)
      }
      yield* Deferred.succeed(pool, launched.right.pool)
      yield* Deferred.complete(ready, launched.right.ready)
    })
    const start = Effect.suspend(() => {
      if (requested) return Effect.void
      requested = true
      return Effect.asVoid(Effect.forkIn(launch, scope))
    })
    return workersOf(Effect.zipRight(start, Deferred.await(pool)), Deferred.await(ready))
  })

/** A pool started in the current scope, up before this returns. */
const startedPool = (options: PoolOptions) => Effect.map(makePool(options), (pool) => workersOf(Effect.succeed(pool)))

/** Runs the blocking fundamentals lookups. */
export class DatabaseWorkers extends Context.Tag("esg-aggregator/DatabaseWorkers")<DatabaseWorkers, Workers>() {
  /** Lookups overlapping under fifo admission: the companies holding permits, plus the one being admitted. */
  static readonly sizeFor = (apiPermits: number): number => apiPermits + 1
  /**
   * Started, every worker up, before the layer is built: a lookup that
   * waited for its pool would spend its company's deadline.
   */
  static readonly layer = (options: PoolOptions): Layer.Layer<DatabaseWorkers, WorkerStartError> =>
    Layer.scoped(DatabaseWorkers, startedPool(options))
  /** Started by the first lookup (see `onDemandPool`). */
  static readonly layerOnDemand = (options: PoolOptions): Layer.Layer<DatabaseWorkers> =>
    Layer.scoped(DatabaseWorkers, onDemandPool(options))
}

/** Runs the CPU-heavy scoring. */
export class ScoringWorkers extends Context.Tag("esg-aggregator/ScoringWorkers")<ScoringWorkers, Workers>() {
  static readonly DEFAULT_SIZE = Math.max(1, os.availableParallelism())
  /** Started, every worker up, before the layer is built. */
  static readonly layer = (options: PoolOptions): Layer.Layer<ScoringWorkers, WorkerStartError> =>
    Layer.scoped(ScoringWorkers, startedPool(options))
  /** Started by the first score: when the first company's data is complete (see `onDemandPool`). */
  static readonly layerOnDemand = (options: PoolOptions): Layer.Layer<ScoringWorkers> =>
    Layer.scoped(ScoringWorkers, onDemandPool(options))
}

/**
 * One pool for both kinds of work, given as both services: the lookups and
 * the scores share its threads, started by the first request of either. A
 * thread costs about 20 to 35 MB; the default run's work (a lookup of 0.8 s
 * and a score of 0.1 s per company, a company every 1.1 s) never needs more
 * than two.
 */
export const layerShared = (options: PoolOptions): Layer.Layer<DatabaseWorkers | ScoringWorkers> =>
  Layer.scopedContext(
    Effect.map(onDemandPool(options), (workers) => Context.make(DatabaseWorkers, workers).pipe(Context.add(ScoringWorkers, workers)))
  )
