/**
 * Sections 7 and 8: scale. The real pipeline (`Aggregator.stream` on
 * `App.layer`, `ScaleEffect.ts`) beside the same semantics written with
 * plain Promises (`PromisePeer.ts`), with zero-latency in-process sources
 * and a trivial scorer, so that what is left is the pipeline's own cost:
 *
 * - `scale-cold`: 100,000 companies through the pipeline once;
 * - `scale-warm`: the same companies again on the same application, every
 *   one a cache hit;
 * - `scale-1m` (only when asked for by name): 1,000,000 companies streamed
 *   on the Effect side, outcomes consumed one at a time.
 *
 * Each side runs in a child process of its own (`scale-child.ts`), so that
 * its peak RSS is its own; both start with the same flags. Rounds alternate
 * the sides, and every figure is the median over rounds.
 */
import { Data, Effect, Schema } from "effect"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { median } from "./Measure.js"
import { progress } from "./Output.js"
import { atMost, row, type Row } from "./Row.js"
import type { Measured } from "./Section.js"
import { ms, print, ratio, verdict } from "./Table.js"

/** A scale child failed, or printed something other than its figures. */
export class ScaleChildFailed extends Data.TaggedError("ScaleChildFailed")<{
  readonly command: string
  readonly detail: string
}> {
  override get message() {
    return `${this.command}: ${this.detail}`
  }
}

const COMPANIES = 100_000
const MILLION = 1_000_000
const ROUNDS = 3
/** The same for both sides; `--expose-gc` only lets a child collect before its RSS readings. */
const CHILD_FLAGS = ["--expose-gc", "--import", "tsx"]
const CHILD_TIMEOUT_MS = 30 * 60_000

type ScaleRow = "scale-cold" | "scale-warm"

/** Each pass has a time row and an RSS row: `scale-cold`, `scale-cold-rss`, `scale-warm`, `scale-warm-rss`. */
export const scaleRows = ["scale-cold", "scale-cold-rss", "scale-warm", "scale-warm-rss"] as const

/** The pipeline issue's targets, against the plain-Promise peer. */
const targets: Record<ScaleRow, { readonly time: number; readonly rss: number }> = {
  "scale-cold": { time: 12, rss: 2 },
  "scale-warm": { time: 3, rss: 2 }
}

const script = fileURLToPath(new URL("./scale-child.ts", import.meta.url))
const root = fileURLToPath(new URL("..", import.meta.url))

const ChildFigures = Schema.parseJson(Schema.Struct({
  coldMs: Schema.Number,
  coldPeakRssMb: Schema.Number,
  warmMs: Schema.optional(Schema.Number),
  warmPeakRssMb: Schema.optional(Schema.Number),
  rssBeforeMb: Schema.Number,
  rssAfterColdMb: Schema.Number,
  heapBeforeMb: Schema.Number,
  heapAfterColdMb: Schema.Number
}))
type ChildFigures = typeof ChildFigures.Type

type Side = "effect" | "promise"

/** Runs one side in a fresh process; its stderr passes through, its last stdout line is its figures. */
const child = (side: Side, n: number, options: { readonly coldOnly?: boolean } = {}) =>
  Effect.gen(function*() {
    const args = [script, side, String(n), ...(options.coldOnly === true ? ["--cold-only"] : [])]
    const command = `node ${[...CHILD_FLAGS, ...args].join(" ")}`
    yield* progress(`scale: ${side} side, ${n.toLocaleString("en-US")} companies...`)
    const run = yield* Effect.sync(() =>
      spawnSync(process.execPath, [...CHILD_FLAGS, ...args], {
        cwd: root,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: CHILD_TIMEOUT_MS
      })
    )
    if (run.error !== undefined || run.status !== 0) {
      return yield* new ScaleChildFailed({ command, detail: run.error?.message ?? `exit ${run.status ?? run.signal}` })
    }
    const last = run.stdout.trim().split("\n").at(-1) ?? ""
    return yield* Schema.decode(ChildFigures)(last).pipe(
      Effect.mapError((error) => new ScaleChildFailed({ command, detail: error.message }))
    )
  })

const round1 = (value: number) => Math.round(value * 10) / 10
const round3 = (value: number) => Math.round(value * 1000) / 1000

interface RowFigures {
  readonly row: ScaleRow
  readonly ms: number
  readonly peakRssMb: number
  /** RSS once the side is set up (modules, records, application), before the cold pass. */
  readonly rssBeforeMb: number
  readonly peerMs: number
  readonly peerPeakRssMb: number
  readonly peerRssBeforeMb: number
  readonly roundsMs: ReadonlyArray<number>
  readonly peerRoundsMs: ReadonlyArray<number>
}

const rowOf = (row: ScaleRow, rounds: ReadonlyArray<Record<Side, ChildFigures>>): RowFigures => {
  const pick = (side: Side, figure: (figures: ChildFigures) => number | undefined) =>
    rounds.map((round) => figure(round[side]) ?? Number.NaN)
  const msOf = (figures: ChildFigures) => row === "scale-cold" ? figures.coldMs : figures.warmMs
  const rssOf = (figures: ChildFigures) => row === "scale-cold" ? figures.coldPeakRssMb : figures.warmPeakRssMb
  return {
    row,
    ms: median(pick("effect", msOf)),
    peakRssMb: median(pick("effect", rssOf)),
    rssBeforeMb: median(pick("effect", (figures) => figures.rssBeforeMb)),
    peerMs: median(pick("promise", msOf)),
    peerPeakRssMb: median(pick("promise", rssOf)),
    peerRssBeforeMb: median(pick("promise", (figures) => figures.rssBeforeMb)),
    roundsMs: pick("effect", msOf),
    peerRoundsMs: pick("promise", msOf)
  }
}

const verdicts = (figures: RowFigures) => {
  const target = targets[figures.row]
  const timeRatio = figures.ms / figures.peerMs
  const rssRatio = figures.peakRssMb / figures.peerPeakRssMb
  const timeMet = timeRatio <= target.time
  const rssMet = rssRatio <= target.rss
  const missed = [...(timeMet ? [] : ["time"]), ...(rssMet ? [] : ["RSS"])]
  return { timeRatio, rssRatio, timeMet, rssMet, outcome: missed.length === 0 ? verdict(true) : `${verdict(false)}: ${missed.join(", ")}` }
}

const mb = (megabytes: number): string => megabytes.toFixed(0)

/** The pass's time row and RSS row, with the raw figures of both sides. */
const rowsOf = (figures: RowFigures): ReadonlyArray<Row> => {
  const target = targets[figures.row]
  const { rssMet, rssRatio, timeMet, timeRatio } = verdicts(figures)
  const raw = {
    n: COMPANIES,
    ms: round1(figures.ms),
    peakRssMb: round1(figures.peakRssMb),
    peerMs: round1(figures.peerMs),
    peerPeakRssMb: round1(figures.peerPeakRssMb),
    rssBeforeMb: round1(figures.rssBeforeMb),
    peerRssBeforeMb: round1(figures.peerRssBeforeMb),
    timeRatio: round3(timeRatio),
    rssRatio: round3(rssRatio),
    timeTarget: target.time,
    rssTarget: target.rss,
    timeMet,
    rssMet,
    roundsMs: figures.roundsMs,
    peerRoundsMs: figures.peerRoundsMs
  }
  const pass = figures.row === "scale-cold" ? "cold" : "warm (all cached)"
  return [
    row({
      row: figures.row,
      what: `${COMPANIES.toLocaleString("en-US")} companies ${pass}: Effect / Promise peer time`,
      value: timeRatio,
      unit: "x",
      target: atMost(target.time),
      detail: `${(figures.ms / 1000).toFixed(2)} s vs ${(figures.peerMs / 1000).toFixed(2)} s`,
      figures: raw
    }),
    row({
      row: `${figures.row}-rss`,
      what: `${COMPANIES.toLocaleString("en-US")} companies ${pass}: Effect / Promise peer peak RSS`,
      value: rssRatio,
      unit: "x",
      target: atMost(target.rss),
      detail: `${mb(figures.peakRssMb)} MB vs ${mb(figures.peerPeakRssMb)} MB`,
      figures: raw
    })
  ]
}

/** Section 7: both passes, both sides, `ROUNDS` rounds. */
export const scaleSection = Effect.gen(function*() {
  const rounds: Array<Record<Side, ChildFigures>> = []
  for (let round = 1; round <= ROUNDS; round++) {
    yield* progress(`scale: round ${round} of ${ROUNDS}`)
    // alternate which side goes first, so that neither always meets the machine in the same state
    const first: Side = round % 2 === 1 ? "promise" : "effect"
    const a = yield* child(first, COMPANIES)
    const b = yield* child(first === "promise" ? "effect" : "promise", COMPANIES)
    rounds.push(first === "promise" ? { promise: a, effect: b } : { effect: a, promise: b })
  }
  const rows = (["scale-cold", "scale-warm"] as const).map((name) => rowOf(name, rounds))

  yield* print({
    title: `7. Scale: ${COMPANIES.toLocaleString("en-US")} companies, zero-latency sources, trivial scorer: Effect (Aggregator.stream) vs plain Promises`,
    header: ["row", "effect ms", "promise ms", "time ratio", "target", "effect peak MB", "promise peak MB", "RSS ratio", "target", "verdict"],
    rows: rows.map((figures) => {
      const target = targets[figures.row]
      const { outcome, rssRatio, timeRatio } = verdicts(figures)
      return [
        figures.row,
        ms(figures.ms),
        ms(figures.peerMs),
        ratio(timeRatio),
        `<= ${target.time}x`,
        mb(figures.peakRssMb),
        mb(figures.peerPeakRssMb),
        ratio(rssRatio),
        `<= ${target.rss}x`,
        outcome
      ]
    }),
    notes: [
      `median of ${ROUNDS} rounds, each side in a fresh process per round (sides alternate which goes first)`,
      ...rows.map((figures) =>
        `${figures.row} ms by round: effect ${figures.roundsMs.map(ms).join(", ")}; promise ${figures.peerRoundsMs.map(ms).join(", ")}`
      ),
      "peak RSS: process.resourceUsage().maxRSS of that side's process; warm is the peak over both passes",
      `RSS once set up, before the cold pass (modules, records, application): effect ${
        mb(median(rounds.map((round) => round.effect.rssBeforeMb)))
      } MB, promise ${mb(median(rounds.map((round) => round.promise.rssBeforeMb)))} MB`,
      `retained after the cold pass (live heap after a full GC), per company: effect ${
        bytesPerCompany(rounds.map((round) => round.effect), "heap")
      } B, promise ${bytesPerCompany(rounds.map((round) => round.promise), "heap")} B`
    ]
  })
  const measured: Measured = { rows: rows.flatMap(rowsOf), findings: [] }
  return measured
})

/** Median growth over the cold pass, in bytes per company: of the live heap, or of RSS (which also counts pages V8 kept). */
const bytesPerCompany = (runs: ReadonlyArray<ChildFigures>, of: "heap" | "rss", n = COMPANIES) =>
  Math.round(
    median(runs.map((figures) =>
      of === "heap" ? figures.heapAfterColdMb - figures.heapBeforeMb : figures.rssAfterColdMb - figures.rssBeforeMb
    )) * 2 ** 20 / n
  )

/** Section 8, only when asked for by name: the Effect side alone, a million companies, one round. */
export const millionSection = (options: { readonly n?: number } = {}) =>
  Effect.gen(function*() {
    const n = options.n ?? MILLION
    const figures = yield* child("effect", n, { coldOnly: true })
    const rssPerCompany = bytesPerCompany([figures], "rss", n)
    const heapPerCompany = bytesPerCompany([figures], "heap", n)
    yield* print({
      title: `8. Scale: ${n.toLocaleString("en-US")} companies streamed through Aggregator.stream (Effect side only, one round)`,
      header: ["row", "ms", "us/company", "peak RSS MB", "cache B/company (RSS)", "cache B/company (heap)"],
      rows: [[
        "scale-1m",
        ms(figures.coldMs),
        (figures.coldMs * 1000 / n).toFixed(1),
        mb(figures.coldPeakRssMb),
        String(rssPerCompany),
        String(heapPerCompany)
      ]],
      notes: [
        "cache B/company (RSS): (RSS after the pass - RSS before) / n, both after a full GC: an approximation that also counts pages V8 kept",
        "cache B/company (heap): the same over the live heap: closer to what the index cache (and the set of tickers seen) holds"
      ]
    })
    const measured: Measured = {
      rows: [
        row({
          row: "scale-1m",
          what: `${n.toLocaleString("en-US")} companies streamed (Effect side): wall time`,
          value: figures.coldMs / 1000,
          unit: "s",
          detail: `peak RSS ${mb(figures.coldPeakRssMb)} MB, cache ${heapPerCompany} B/company`,
          figures: {
            n,
            ms: round1(figures.coldMs),
            peakRssMb: round1(figures.coldPeakRssMb),
            cacheBytesPerCompany: rssPerCompany,
            cacheHeapBytesPerCompany: heapPerCompany
          }
        })
      ],
      findings: []
    }
    return measured
  })
