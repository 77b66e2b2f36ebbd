/**
 * The worker-thread entry: runs the request handlers until the pool closes.
 * Built as a bundle (`dist/worker.js`) so that a worker starts fast and loads
 * only what a worker runs.
 *
 * @since 0.1.0
 */
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { workerLayer } from "./Handlers.js"
import { Effect } from "effect"

// no traces leave a worker: its spans would only cost (see `Bin.ts`)
NodeRuntime.runMain(Effect.withTracerEnabled(WorkerRunner.launch(workerLayer()), false))
