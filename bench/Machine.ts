/**
 * What the machine gives right now, to read the other figures against: what
 * it is (node, cores, CPU), the load average, and how much two plain worker
 * threads really run in parallel (on an idle 2-core machine about 2.0;
 * another busy process on the machine pulls it towards 1.0, and no pool
 * can beat it).
 */
import { Data, Effect } from "effect"
import * as os from "node:os"
import { Worker } from "node:worker_threads"
import { median } from "./Measure.js"

/** A calibration thread failed: a bug in the benchmark, not a slow machine. */
export class CalibrationFailed extends Data.TaggedError("CalibrationFailed")<{ readonly cause: unknown }> {}

// CPU-only loop timed inside the thread, so thread start-up is not in it
const SPIN_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads")
const started = performance.now()
let x = 1
for (let i = 0; i < workerData; i++) x = (x * 1103515245 + 12345) % 2147483648
parentPort.postMessage({ ms: performance.now() - started, x })
`

const SPIN_ITERATIONS = 15_000_000

const spinThread = Effect.async<number, CalibrationFailed>((resume) => {
  const worker = new Worker(SPIN_SOURCE, { eval: true, workerData: SPIN_ITERATIONS })
  worker.once("message", (message: { readonly ms: number }) => resume(Effect.succeed(message.ms)))
  worker.once("error", (cause) => resume(Effect.fail(new CalibrationFailed({ cause }))))
  return Effect.promise(() => worker.terminate())
})

/**
 * Parallel capacity of two threads: 2 x (one thread alone) / (each of two
 * at once), best of `rounds` (the least disturbed round says what the
 * machine can do).
 */
export const parallelCapacity = (rounds: number) =>
  Effect.gen(function*() {
    const capacities: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      const alone = yield* spinThread
      const together = yield* Effect.all([spinThread, spinThread], { concurrency: "unbounded" })
      capacities.push(2 * alone / Math.max(...together))
    }
    return { best: Math.max(...capacities), median: median(capacities) }
  })

export const loadAverage = (): string => os.loadavg().map((load) => load.toFixed(2)).join(" ")

/** The machine the figures come from, in one line. */
export const describeMachine = (): string =>
  `node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), ${
    Math.round(os.totalmem() / 2 ** 30)
  } GB, ${os.type()} ${os.release()}`
