/**
 * The seed scenario under both schedules on the wall clock, everything
 * simulated in-process, printed beside the virtual-time optimum.
 */
import { Effect, Layer, Logger, LogLevel } from "effect"
import { Aggregator, type Schedule } from "../src/Aggregator.js"
import { ApiGate } from "../src/ApiGate.js"
import { Emissions } from "../src/Emissions.js"
import { Fundamentals } from "../src/Fundamentals.js"
import { Governance } from "../src/Governance.js"
import { IndexCache } from "../src/IndexCache.js"
import { ScoreEngine } from "../src/ScoreEngine.js"
import { timed } from "./Measure.js"
import { ms, print, ratio } from "./Table.js"

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
    const run = yield* timed(aggregator.run(seed, { schedule }))
    return { ms: run.ms, scored: run.value.summary.scored }
  }).pipe(
    Effect.provide(simulated),
    // the skips under "eager" are expected; their error logs would break the table
    Logger.withMinimumLogLevel(LogLevel.None)
  )

export const schedulesSection = Effect.gen(function*() {
  const runs = [
    { schedule: "fifo", optimumMs: 5600, ...(yield* wall("fifo")) },
    { schedule: "eager", optimumMs: 2000, ...(yield* wall("eager")) }
  ]
  yield* print({
    title: "5. Seed scenario (5 companies, simulated sources, inline scorer) by schedule",
    header: ["schedule", "scored", "wall ms", "optimum ms", "wall/optimum"],
    rows: runs.map((run) => [run.schedule, String(run.scored), ms(run.ms), ms(run.optimumMs), ratio(run.ms / run.optimumMs)])
  })
})
