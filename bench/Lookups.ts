/**
 * Section 3: five blocking fundamentals lookups (0.8 s each, the scenario's
 * database latency) issued at once through `Fundamentals.layerWorker`, on
 * `DatabaseWorkers` pools of 1, 2 and 5 threads. A blocked worker serves one
 * lookup at a time, so the ideal wall time is ceil(5 / size) x 0.8 s.
 */
import { Context, Duration, Effect, Layer } from "effect"
import type { SourceError } from "../src/Domain.js"
import { Fundamentals, layerOnWorkers as FundamentalsOnWorkers } from "../src/Fundamentals.js"
import { assetPath } from "../src/internal/Assets.js"
import { sampleUniverse } from "../src/universe/SampleUniverse.js"
import { Universe, type UniverseUnavailable } from "../src/universe/Universe.js"
import { DatabaseWorkers, type WorkerStartError } from "../src/worker/WorkerPool.js"
import { timed } from "./Measure.js"
import { atMost, row } from "./Row.js"
import type { Measured } from "./Section.js"
import { ms, print, ratio } from "./Table.js"

const LOOKUPS = 5
const DB_LATENCY = Duration.millis(800)
const SIZES = [1, 2, 5] as const
/**
 * A blocked lookup uses no CPU, so lookups on separate threads overlap
 * fully and what is left over the ideal is message passing (a few ms a
 * lookup). 10 % of the ideal (80 ms or more) is room for a loaded machine's
 * scheduling; more means lookups queue where they should not.
 */
const TARGET = atMost(1.1)

export const lookupsRows = SIZES.map((size) => `lookups-pool-${size}`)

const lookupsOn = (size: number) =>
  Effect.scoped(
    Effect.gen(function*() {
      const tickers = sampleUniverse().slice(0, LOOKUPS).map((record) => record.ticker)
      const dbPath = assetPath("universe.db")
      const context = yield* Layer.build(
        FundamentalsOnWorkers(dbPath).pipe(
          Layer.provide(Layer.merge(DatabaseWorkers.layer({ size, dbPath, dbLatency: DB_LATENCY }), Universe.layerFromDatabase(dbPath)))
        )
      )
      const fundamentals = Context.get(context, Fundamentals)
      const run = yield* timed(
        Effect.forEach(tickers, (ticker) => fundamentals.fetch(ticker), { concurrency: "unbounded" })
      )
      const idealMs = Math.ceil(LOOKUPS / size) * Duration.toMillis(DB_LATENCY)
      return { size, ms: run.ms, idealMs, found: run.value.length }
    })
  )

export const lookupsSection: Effect.Effect<Measured, WorkerStartError | UniverseUnavailable | SourceError> = Effect.gen(function*() {
  const runs = yield* Effect.forEach(SIZES, lookupsOn)
  yield* print({
    title: `3. ${LOOKUPS} blocking fundamentals lookups (${Duration.format(DB_LATENCY)} each) issued at once, by DatabaseWorkers size`,
    header: ["pool size", "wall ms", "ideal ms", "wall/ideal"],
    rows: runs.map((run) => [String(run.size), ms(run.ms), ms(run.idealMs), ratio(run.ms / run.idealMs)]),
    notes: ["ideal = ceil(5 / size) x 0.8 s; pool start-up is not in the wall time"]
  })
  return {
    rows: runs.map((run) =>
      row({
        row: `lookups-pool-${run.size}`,
        what: `${LOOKUPS} blocking lookups at once on ${run.size} database thread${run.size === 1 ? "" : "s"}: wall / ideal`,
        value: run.ms / run.idealMs,
        unit: "x",
        target: TARGET,
        requires: run.found === LOOKUPS,
        figures: { ms: Math.round(run.ms), idealMs: run.idealMs, found: run.found }
      })
    ),
    findings: []
  }
})
