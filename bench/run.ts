/**
 * Real-time figures (not tests): the seed scenario under both schedules on
 * the wall clock, printed beside the virtual-time optimum.
 */
import { Effect, Layer } from "effect"
import { Aggregator, type Schedule } from "../src/Aggregator.js"
import { ApiGate } from "../src/ApiGate.js"
import { Emissions } from "../src/Emissions.js"
import { Fundamentals } from "../src/Fundamentals.js"
import { Governance } from "../src/Governance.js"
import { IndexCache } from "../src/IndexCache.js"
import { ScoreEngine } from "../src/ScoreEngine.js"

const seed = ["Apple", "Microsoft", "Meta", "Amazon", "Tesla"]

const simulated = Aggregator.Default.pipe(
  Layer.provide(Layer.mergeAll(
    Fundamentals.layerSimulated(),
    Emissions.layerSimulated(),
    Governance.layerSimulated(),
    ScoreEngine.layerInline(),
    IndexCache.Default,
    ApiGate.Default
  ))
)

const wall = (schedule: Schedule) =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const started = performance.now()
    const report = yield* aggregator.run(seed, { schedule })
    return { ms: performance.now() - started, report }
  }).pipe(Effect.provide(simulated))

const program = Effect.gen(function*() {
  const fifo = yield* wall("fifo")
  const eager = yield* wall("eager")
  console.log("schedule  scored  wall ms  optimum ms  wall/optimum")
  for (const [name, run, optimum] of [["fifo", fifo, 5600], ["eager", eager, 2000]] as const) {
    console.log(
      `${name.padEnd(8)}  ${String(run.report.summary.scored).padStart(6)}  ${run.ms.toFixed(0).padStart(7)}  ${
        String(optimum).padStart(10)
      }  ${(run.ms / optimum).toFixed(3).padStart(12)}`
    )
  }
})

Effect.runPromise(program)
