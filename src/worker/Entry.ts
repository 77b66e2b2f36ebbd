/**
 * The worker-thread entry: opens the universe database read-only (one
 * connection per worker), answers lookups synchronously — this is where the
 * blocking happens, off the main event loop — and runs the Monte Carlo
 * scorer, yielding to the worker's message loop between chunks so that an
 * interrupt from the main thread really stops it.
 *
 * Built as a bundle (`dist/worker.js`) so a worker starts fast.
 *
 * @since 0.1.0
 */
import { WorkerRunner } from "@effect/platform"
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { Context, Effect, Layer, Schema } from "effect"
import * as WorkerThreads from "node:worker_threads"
import { makeDirectory } from "../CompanyDirectory.js"
import { FundamentalsError } from "../Domain.js"
import { simulate } from "../ScoreEngine.js"
import { buildPeerStats, type PeerStats } from "../ScoreModel.js"
import { blockFor, openUniverseDb, type UniverseDb } from "../UniverseDb.js"
import { Resolution, WorkerConfig, WorkerRequest } from "./Protocol.js"

interface State {
  readonly db: UniverseDb | null
  readonly dbLatencyMs: number
  readonly peers: PeerStats
  readonly resolve: (input: string) => Resolution
  readonly samples: number
  readonly seed: number
}

class WorkerState extends Context.Tag("esg-aggregator/worker/WorkerState")<WorkerState, State>() {}

// A real macrotask: lets the worker's message port deliver an interrupt between chunks.
const macrotask = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

// Fault injection for tests and drills: a lookup of this ticker kills the worker thread.
const crashTicker = process.env["ESG_WORKER_CRASH_TICKER"]

const StateLive = Layer.scoped(
  WorkerState,
  Effect.gen(function*() {
    const config = yield* Schema.decodeUnknown(WorkerConfig)(WorkerThreads.workerData)
    const db = config.dbPath === null
      ? null
      : yield* Effect.acquireRelease(
        Effect.try(() => openUniverseDb(config.dbPath!)),
        (db) => Effect.sync(() => db.close())
      )
    const directory = makeDirectory(db?.directoryEntries() ?? [])
    return {
      db,
      dbLatencyMs: config.dbLatencyMs,
      peers: buildPeerStats(db?.records() ?? []),
      samples: config.samples,
      seed: config.seed,
      resolve: (input: string) => {
        const result = directory.resolve(input)
        return result._tag === "Right"
          ? new Resolution({ input, ticker: result.right, suggestion: null })
          : new Resolution({ input, ticker: null, suggestion: result.left.suggestion ?? null })
      }
    }
  })
)

const WorkerLive = WorkerRunner.layerSerialized(WorkerRequest, {
  ListCompanies: () => Effect.map(WorkerState, (state) => state.db?.records() ?? []),
  ResolveCompanies: ({ inputs }) => Effect.map(WorkerState, (state) => inputs.map(state.resolve)),
  LookupFundamentals: ({ ticker }) =>
    Effect.flatMap(WorkerState, (state) =>
      Effect.suspend(() => {
        if (ticker === crashTicker) process.exit(70)
        if (state.db === null) return Effect.fail(new FundamentalsError({ ticker, reason: "no database" }))
        // the scenario's blocking database call: this thread really waits
        blockFor(state.dbLatencyMs)
        const found = state.db.fundamentals(ticker)
        return found === undefined
          ? Effect.fail(new FundamentalsError({ ticker, reason: "not in the database" }))
          : Effect.succeed(found)
      })),
  ScoreCompany: ({ input }) =>
    Effect.flatMap(WorkerState, (state) =>
      simulate(state.peers, input, { samples: state.samples, seed: state.seed }, macrotask))
}).pipe(Layer.provide(StateLive), Layer.provide(NodeWorkerRunner.layer))

NodeRuntime.runMain(WorkerRunner.launch(WorkerLive))
