/**
 * The worker-thread entry: runs the request handlers until the pool closes.
 * Built as a bundle (`dist/worker.js`) so that a worker starts fast and loads
 * only what a worker runs.
 *
 * @since 0.1.0
 */
import { WorkerRunner } from "@effect/platform"
import { NodeRuntime } from "@effect/platform-node"
import { workerLayer } from "./Handlers.js"

NodeRuntime.runMain(WorkerRunner.launch(workerLayer()))
