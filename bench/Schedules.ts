/**
 * The seed scenario under both schedules on the wall clock, everything
 * simulated in-process, printed beside the virtual-time optimum.
 */
import { Effect, Logger, LogLevel } from "effect"
import { Aggregator, type Schedule } from "../src/Aggregator.js"
import * as App from "../src/App.js"
import { Scenario } from "../src/Scenario.js"
import { timed } from "./Measure.js"
import { ms, print, ratio } from "./Table.js"

const wall = (schedule: Schedule) =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const run = yield* timed(aggregator.run(Scenario.companies, { schedule }))
    return { ms: run.ms, scored: run.value.summary.scored }
  }).pipe(
    // the scenario's defaults (simulated sources, inline scorer), built afresh per schedule:
    // with the cache of an earlier run, every company would be a cache hit
    Effect.provide(App.layer()),
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
