/**
 * Schedule efficiency in virtual time: N = 5, 20, 100 and 1,000 companies
 * under `fifo`, `eager` and one company at a time (`fifo` with
 * `concurrency: 1`), each on a fresh application at the scenario's
 * latencies. The figure is the makespan over the lower bound, N x 2.2 s of
 * API time (1.2 s + 1.0 s a company) over 2 permits, with how many were
 * scored: a schedule may finish early by skipping companies.
 */
import { Duration, Effect, Schema } from "effect"
import type { RunOptions } from "../src/RunConfig.js"
import { CompanyRecord } from "../src/Domain.js"
import { Scenario } from "../src/Scenario.js"
import { now } from "./Measure.js"
import { atMost, rounded, row, type Row } from "./Row.js"
import { syntheticRecords } from "./ScaleData.js"
import { ms, print } from "./Table.js"
import { virtualRun, type VirtualRunUnfinished } from "./VirtualTime.js"

const SIZES = [5, 20, 100, 1000] as const

const WAYS: ReadonlyArray<{ readonly name: string; readonly options: RunOptions }> = [
  { name: "fifo", options: { schedule: "fifo" } },
  { name: "eager", options: { schedule: "eager" } },
  { name: "one-at-a-time", options: { schedule: "fifo", concurrency: 1 } }
]

/** The bound: fifo within 2 % of the lower bound, every company scored (5 companies: 5.6 s against 5.5 s). */
const FIFO_TARGET = atMost(1.02)

export const efficiencyRows = SIZES.flatMap((n) => WAYS.map((way) => `schedule-${way.name}-${n}`))

const apiMsPerCompany = Duration.toMillis(Scenario.latency.emissions) + Duration.toMillis(Scenario.latency.governance)

export const lowerBoundMs = (n: number): number => n * apiMsPerCompany / Scenario.permits

const measure = (n: number, records: ReadonlyArray<CompanyRecord>, way: typeof WAYS[number]) =>
  Effect.gen(function*() {
    const started = yield* now
    const summary = yield* virtualRun({
      inputs: records.map((record) => record.ticker),
      records,
      options: way.options,
      // every way ends within N x 2.2 s: one at a time takes N x 1.2 s
      advance: Duration.millis(n * apiMsPerCompany + 10_000)
    })
    const realMs = (yield* now) - started
    const bound = lowerBoundMs(n)
    return row({
      row: `schedule-${way.name}-${n}`,
      what: `${way.name}, ${n} companies: makespan / lower bound (virtual time)`,
      value: summary.elapsedMs / bound,
      unit: "x",
      target: way.name === "fifo" ? FIFO_TARGET : undefined,
      requires: summary.scored === n,
      detail: `${summary.scored} of ${n} scored, ${(summary.elapsedMs / 1000).toFixed(1)} s`,
      figures: {
        n,
        scored: summary.scored,
        makespanMs: summary.elapsedMs,
        lowerBoundMs: bound,
        apiCalls: summary.apiCalls,
        realMs: Math.round(realMs)
      }
    })
  })

export const scheduleEfficiency: Effect.Effect<ReadonlyArray<Row>, VirtualRunUnfinished> =
  Effect.gen(function*() {
    // plain synthetic companies: the sample universe holds 500, and N goes to 1,000
    const decode = Schema.decodeSync(CompanyRecord)
    const universe = syntheticRecords(Math.max(...SIZES)).map((fields) => decode(fields))
    // all at once: each run has a clock of its own, and a run spends most of its real time
    // waiting on the TestClock's timers (a few ms per sleep it wakes), not on the CPU
    const rows = yield* Effect.forEach(
      SIZES,
      (n) => Effect.forEach(WAYS, (way) => measure(n, universe.slice(0, n), way), { concurrency: "unbounded" }),
      { concurrency: "unbounded" }
    )
    yield* print({
      title: "5. Schedule efficiency in virtual time: makespan / lower bound (N x 2.2 s / 2 permits)",
      header: ["N", "lower bound s", ...WAYS.flatMap((way) => [`${way.name} scored`, `${way.name} ratio`]), "slowest real ms"],
      rows: rows.map((byWay, i) => [
        String(SIZES[i]),
        (lowerBoundMs(SIZES[i]!) / 1000).toFixed(1),
        ...byWay.flatMap((r) => [String(r.figures["scored"]), `${rounded(r.value, "x").toFixed(3)}x`]),
        ms(Math.max(...byWay.map((r) => Number(r.figures["realMs"]))))
      ]),
      notes: [
        `target: fifo <= ${FIFO_TARGET.value}x with every company scored; eager and one at a time inform`,
        "slowest real ms: the longest of that N's runs on the wall clock; all twelve runs go at once, each on a TestClock of its own"
      ]
    })
    return rows.flat()
  })
