/**
 * Section 5, the schedules: their efficiency in virtual time for N up to
 * 1,000 (`ScheduleEfficiency.ts`), and the seed scenario under both
 * schedules on the wall clock, everything simulated in-process, beside the
 * same run in virtual time.
 */
import { Duration, Effect, Logger, LogLevel } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import { type Schedule } from "../src/Admission.js"
import * as App from "../src/App.js"
import { Scenario } from "../src/Scenario.js"
import { timed } from "./Measure.js"
import { row } from "./Row.js"
import { efficiencyRows, scheduleEfficiency } from "./ScheduleEfficiency.js"
import type { Measured } from "./Section.js"
import { ms, print, ratio } from "./Table.js"
import { virtualRun } from "./VirtualTime.js"

const SCHEDULES: ReadonlyArray<Schedule> = ["fifo", "eager"]

export const schedulesRows = [...efficiencyRows, ...SCHEDULES.map((schedule) => `seed-wall-${schedule}`)]

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

const seedOnBothClocks = (schedule: Schedule) =>
  Effect.gen(function*() {
    const virtual = yield* virtualRun({ inputs: Scenario.companies, options: { schedule }, advance: Duration.seconds(60) })
    return { schedule, virtualMs: virtual.elapsedMs, ...(yield* wall(schedule)) }
  })

export const schedulesSection = Effect.gen(function*() {
  const efficiency = yield* scheduleEfficiency
  const runs = yield* Effect.forEach(SCHEDULES, seedOnBothClocks)
  yield* print({
    title: "5. Seed scenario (5 companies, simulated sources, inline scorer) by schedule, wall clock vs virtual time",
    header: ["schedule", "scored", "wall ms", "virtual ms", "wall/virtual"],
    rows: runs.map((run) => [run.schedule, String(run.scored), ms(run.ms), ms(run.virtualMs), ratio(run.ms / run.virtualMs)]),
    notes: ["the wall clock adds each company's score (500,000 samples on the main thread) to the schedule"]
  })
  const measured: Measured = {
    rows: [
      ...efficiency,
      ...runs.map((run) =>
        row({
          row: `seed-wall-${run.schedule}`,
          what: `seed scenario in-process, ${run.schedule}: wall / virtual makespan`,
          value: run.ms / run.virtualMs,
          unit: "x",
          detail: `${run.scored} scored, ${(run.ms / 1000).toFixed(2)} s`,
          figures: { ms: Math.round(run.ms), virtualMs: run.virtualMs, scored: run.scored }
        })
      )
    ],
    findings: []
  }
  return measured
})
