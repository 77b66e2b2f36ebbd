/**
 * The worker pools: where blocking and CPU-heavy work runs, off the main
 * event loop (Effect 3 has no `Effect.blocking`). Two pools of the same
 * worker, sized to their work:
 *
 * - `DatabaseWorkers` run the blocking fundamentals lookups. A blocked
 *   thread uses no CPU, so this pool is sized to how many lookups overlap
 *   (default 4), not to the cores.
 * - `ScoringWorkers` run the Monte Carlo scorer, which is all CPU: sized to
 *   the cores (default `os.availableParallelism()`).
 *
 * Start-up is checked before any thread is spawned (database file, worker
 * entry) and then bounded in time, because a worker that cannot start is
 * otherwise respawned every second forever.
 *
 * @since 0.1.0
 */
import type { Worker as PlatformWorker } from "@effect/platform"
import { Worker } from "@effect/platform"
import { NodeWorker } from "@effect/platform-node"
import { Context, Duration, Effect, Layer, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as WorkerThreads from "node:worker_threads"
import { assetPath } from "./Assets.js"
import { InitialMessage, ResolveCompanies, type WorkerRequest } from "./worker/Protocol.js"
import { UNIVERSE_SEED } from "./SampleUniverse.js"
import { DEFAULT_SAMPLES } from "./ScoreModel.js"

/** A pool could not start: the message says what to fix. */
export class WorkerStartError extends Schema.TaggedError<WorkerStartError>()("WorkerStartError", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

export type Pool = PlatformWorker.SerializedWorkerPool<WorkerRequest>

export interface PoolOptions {
  readonly size: number
  /** The universe database every worker opens read-only; `null` for none. */
  readonly dbPath: string | null
  /** Emulated blocking latency per fundamentals lookup (default 0.8 s, the scenario's). */
  readonly dbLatency?: Duration.DurationInput | undefined
  readonly samples?: number | undefined
  readonly seed?: number | undefined
  /** The worker entry file (default: the bundled `worker.js` built beside `dist/main.js`). */
  readonly entry?: string | undefined
  /** How long start-up may take before it is reported as failed (default 15 s). */
  readonly startTimeout?: Duration.DurationInput | undefined
}

const SQLITE_MAGIC = "SQLite format 3\u0000"

/** Checks that `path` is a readable SQLite file, before any worker tries to open it. */
export const checkDatabaseFile = (path: string): Effect.Effect<void, WorkerStartError> =>
  Effect.suspend(() => {
    if (!fs.existsSync(path)) return Effect.fail(new WorkerStartError({ reason: `database not found: ${path}` }))
    const header = Buffer.alloc(16)
    const read = Effect.try({
      try: () => {
        const fd = fs.openSync(path, "r")
        const bytes = fs.readSync(fd, header, 0, 16, 0)
        fs.closeSync(fd)
        return bytes
      },
      catch: (cause) => new WorkerStartError({ reason: `cannot read database ${path}: ${String(cause)}` })
    })
    return Effect.flatMap(read, (bytes) =>
      bytes === 16 && header.toString("latin1") === SQLITE_MAGIC
        ? Effect.void
        : Effect.fail(new WorkerStartError({ reason: `not an SQLite database: ${path}` })))
  })

/** Starts a pool and waits until every worker is up (or fails within `startTimeout`). */
export const makePool = (options: PoolOptions) =>
  Effect.gen(function*() {
    const entry = options.entry ?? assetPath("worker.js")
    if (!fs.existsSync(entry)) {
      return yield* new WorkerStartError({ reason: `worker entry not found: ${entry} (run npm run build)` })
    }
    if (options.dbPath !== null) yield* checkDatabaseFile(options.dbPath)
    const initial = new InitialMessage({
      dbPath: options.dbPath,
      dbLatencyMs: Duration.toMillis(Duration.decode(options.dbLatency ?? Duration.millis(800))),
      samples: options.samples ?? DEFAULT_SAMPLES,
      seed: options.seed ?? UNIVERSE_SEED
    })
    const startTimeout = options.startTimeout ?? Duration.seconds(15)
    const pool = yield* Worker.makePoolSerialized<WorkerRequest>({ size: options.size, initialMessage: () => initial }).pipe(
      Effect.provide(NodeWorker.layer(() => new WorkerThreads.Worker(entry))),
      Effect.mapError((cause) => new WorkerStartError({ reason: `worker pool failed to start: ${cause.message}` }))
    )
    // Every worker must answer once: a worker that cannot initialise would otherwise be respawned forever.
    yield* pool.broadcast(new ResolveCompanies({ inputs: [] })).pipe(
      Effect.asVoid,
      Effect.mapError((cause) => new WorkerStartError({ reason: `worker failed to start: ${cause.message}` })),
      Effect.disconnect,
      Effect.timeoutFail({
        duration: startTimeout,
        onTimeout: () =>
          new WorkerStartError({ reason: `workers did not start within ${Duration.format(startTimeout)}` })
      })
    )
    return pool
  })

/** Runs the blocking fundamentals lookups. */
export class DatabaseWorkers extends Context.Tag("esg-aggregator/DatabaseWorkers")<DatabaseWorkers, Pool>() {
  static readonly DEFAULT_SIZE = 4
  static readonly layer = (options: PoolOptions): Layer.Layer<DatabaseWorkers, WorkerStartError> =>
    Layer.scoped(DatabaseWorkers, makePool(options))
}

/** Runs the CPU-heavy scoring. */
export class ScoringWorkers extends Context.Tag("esg-aggregator/ScoringWorkers")<ScoringWorkers, Pool>() {
  static readonly DEFAULT_SIZE = Math.max(1, os.availableParallelism())
  static readonly layer = (options: PoolOptions): Layer.Layer<ScoringWorkers, WorkerStartError> =>
    Layer.scoped(ScoringWorkers, makePool(options))
}
