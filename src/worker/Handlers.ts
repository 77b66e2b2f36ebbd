/**
 * What a worker thread does with each request: opens the universe database
 * read-only (one connection per worker), answers lookups synchronously —
 * this is where the blocking happens, off the main event loop — and runs the
 * Monte Carlo scorer, yielding to the worker's message loop between chunks
 * so that an interrupt from the main thread really stops it.
 *
 * `Entry.ts` runs these handlers; a test entry can decorate them (to crash
 * on a ticker, say) without a knob in production code.
 *
 * @since 0.2.0
 */
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import { Context, Effect, Layer, Schema } from "effect"
import * as WorkerThreads from "node:worker_threads"
import { SourceError } from "../Domain.js"
import { simulate } from "../ScoreSimulation.js"
import type { PeerStats } from "../ScoreModel.js"
import { openUniverseDb, type UniverseDb } from "../universe/Database.js"
import { blockFor } from "./Block.js"
import { type LookupFundamentals, type ScoreCompany, WorkerConfig, WorkerRequest } from "./Protocol.js"

interface State {
  readonly db: UniverseDb | null
  readonly dbLatencyMs: number
  readonly peers: PeerStats
  readonly samples: number
  readonly seed: number
}

export class WorkerState extends Context.Tag("esg-aggregator/worker/WorkerState")<WorkerState, State>() {}

// A real macrotask: lets the worker's message port deliver an interrupt between chunks.
const macrotask = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

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
    return {
      db,
      dbLatencyMs: config.dbLatencyMs,
      peers: db?.peers() ?? new Map(),
      samples: config.samples,
      seed: config.seed
    }
  })
)

/** The request handlers, one per request of the protocol. */
export const handlers = {
  // the state is built before the first request is served: an answer says the worker is ready
  Ping: () => Effect.void,
  LookupFundamentals: ({ ticker }: LookupFundamentals) =>
    Effect.flatMap(WorkerState, (state) =>
      Effect.suspend(() => {
        if (state.db === null) return Effect.fail(new SourceError({ source: "fundamentals", ticker, reason: "no database" }))
        // the scenario's blocking database call: this thread really waits
        blockFor(state.dbLatencyMs)
        const found = state.db.fundamentals(ticker)
        return found === undefined
          ? Effect.fail(new SourceError({ source: "fundamentals", ticker, reason: "not in the database" }))
          : Effect.succeed(found)
      })),
  ScoreCompany: ({ input }: ScoreCompany) =>
    Effect.flatMap(WorkerState, (state) => simulate(state.peers, input, { samples: state.samples, seed: state.seed }, macrotask))
}

/** The worker's runner over `handlers` (the production ones unless decorated). */
export const workerLayer = (serve: typeof handlers = handlers) =>
  WorkerRunner.layerSerialized(WorkerRequest, serve).pipe(Layer.provide(StateLive), Layer.provide(NodeWorkerRunner.layer))
