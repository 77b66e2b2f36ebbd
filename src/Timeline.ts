/**
 * The API calls of a run on their permit lanes, over time: a decorator of
 * the gate records each call that went out (company, source, start, end,
 * how it ended) on the lowest lane free when it was granted, and `render`
 * draws one row per permit, one segment per call. Since a lane is taken
 * inside the permit, a reader sees at a glance that never more calls ran
 * at once than there are permits; a call cut off by its company's deadline
 * ends with `x`.
 *
 * @since 0.3.0
 */
import { Clock, Context, Effect, Exit, Layer } from "effect"
import { ApiGate } from "./ApiGate.js"
import type { ExternalSource, Ticker } from "./Domain.js"

/**
 * One external call the gate let through: whose, to which source, on which permit lane (from 0), and when it
 * started and ended, in milliseconds since the gate was built.
 */
export interface CallRecord {
  readonly ticker: Ticker
  readonly source: ExternalSource
  readonly lane: number
  readonly startMs: number
  readonly endMs: number
  /** `interrupted`: cut off, by its company's deadline or the end of the run. */
  readonly ended: "ok" | "failed" | "interrupted"
}

export interface TimelineService {
  readonly lanes: number
  /** The calls recorded so far, in the order they ended. */
  readonly calls: Effect.Effect<ReadonlyArray<CallRecord>>
}

/** Calls kept at the most: a chart of more would not be read. */
const CAPACITY = 10_000

export class Timeline extends Context.Tag("esg-aggregator/Timeline")<Timeline, TimelineService>() {
  /** The gate over `inner`, recording each call it lets through; gives the gate and the timeline. */
  static readonly recording = <E, R>(inner: Layer.Layer<ApiGate, E, R>): Layer.Layer<ApiGate | Timeline, E, R> =>
    Layer.effectContext(Effect.gen(function*() {
      const gate = yield* ApiGate
      const start = yield* Clock.currentTimeMillis
      const busy: Array<boolean> = Array.from({ length: gate.permits }, () => false)
      const calls: Array<CallRecord> = []
      const recorded = <A, E1>(source: ExternalSource, ticker: Ticker, effect: Effect.Effect<A, E1>) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function*() {
            // inside the permit: at most `permits` calls hold a lane, so one is free
            const lane = busy.indexOf(false)
            busy[lane] = true
            const startMs = (yield* Clock.currentTimeMillis) - start
            const exit = yield* Effect.exit(restore(effect))
            busy[lane] = false
            const endMs = (yield* Clock.currentTimeMillis) - start
            if (calls.length < CAPACITY) {
              const ended = Exit.isSuccess(exit) ? "ok" : Exit.isInterrupted(exit) ? "interrupted" : "failed"
              calls.push({ ticker, source, lane, startMs, endMs, ended })
            }
            return yield* exit
          })
        )
      return Context.make(ApiGate, ApiGate.of({
        ...gate,
        call: (request, effect, retry) => gate.call(request, recorded(request.source, request.company.ticker, effect), retry)
      })).pipe(Context.add(Timeline, Timeline.of({ lanes: gate.permits, calls: Effect.sync(() => [...calls]) })))
    })).pipe(Layer.provide(inner))
}

/** One segment's text: the ticker and the source's initial, cut to the segment's width. */
const label = (call: CallRecord, width: number): string => {
  const text = `${call.ticker} ${call.source[0]}`
  const body = (text.length + 2 <= width ? `[${text}]` : text).padEnd(width, "=").slice(0, width)
  return call.ended === "interrupted" ? body.slice(0, -1) + "x" : body
}

/** The columns a call's label needs to be read (`[GOOGL e]` and a gap). */
const READABLE_CALL = 12
/** What a chart row adds before its lane (`12 |`). */
const LANE_PREFIX = 4

/**
 * The chart: a time axis, then one row per lane; `width` characters for the
 * whole run. A run with more calls than a row of that width can show
 * readably is charted in parts, each a slice of the run's time, one under
 * the other.
 */
export const render = (lanes: number, calls: ReadonlyArray<CallRecord>, width = 96): string => {
  // from the first call to the last
  const originMs = calls.reduce((first, call) => Math.min(first, call.startMs), Number.POSITIVE_INFINITY)
  const endMs = calls.reduce((last, call) => Math.max(last, call.endMs - originMs), 1)
  const parts = Math.max(1, Math.ceil((calls.length / Math.max(1, lanes)) * READABLE_CALL / width))
  const seconds = (endMs / 1000).toFixed(2)
  const title = `API calls on ${lanes} permit lane${lanes === 1 ? "" : "s"}, 0 to ${seconds} s (e: emissions, g: governance, x: cut off)${
    parts === 1 ? "" : `, in ${parts} parts`
  }`
  // each part the next calls in order of start, over the time they take: no call is cut in two
  const ordered = [...calls].sort((a, b) => a.startMs - b.startMs)
  const size = Math.ceil(ordered.length / parts)
  const charts = Array.from({ length: parts }, (_, part) => {
    const own = ordered.slice(part * size, (part + 1) * size)
    const from = part === 0 ? originMs : own.reduce((first, call) => Math.min(first, call.startMs), Number.POSITIVE_INFINITY)
    const to = own.reduce((last, call) => Math.max(last, call.endMs), from + 1)
    return slice(lanes, own, width, from, to, originMs)
  })
  return [title, ...charts].join("\n") + "\n"
}

/** The calls between `fromMs` and `toMs` on `width` columns: an axis, then a row per lane. */
const slice = (
  lanes: number,
  calls: ReadonlyArray<CallRecord>,
  width: number,
  fromMs: number,
  toMs: number,
  originMs: number
): string => {
  const span = Math.max(1, toMs - fromMs)
  const column = (ms: number) => Math.max(0, Math.min(width, Math.round(((ms - fromMs) / span) * width)))
  const rows = Array.from({ length: lanes }, () => Array.from({ length: width }, () => " "))
  for (const call of [...calls].sort((a, b) => a.startMs - b.startMs)) {
    if (call.endMs < fromMs || call.startMs > toMs) continue
    const from = column(call.startMs)
    const to = Math.max(from + 1, column(call.endMs))
    const text = label(call, to - from)
    for (let i = 0; i < text.length && from + i < width; i++) rows[call.lane]![from + i] = text[i]!
  }
  const start = `${((fromMs - originMs) / 1000).toFixed(2).replace(/\.00$/, "")} s`
  const end = `${((toMs - originMs) / 1000).toFixed(2)} s`
  return [
    `${start.padEnd(width - end.length)}${end}`,
    ...rows.map((row, lane) => `${String(lane + 1).padStart(2)} |${row.join("").trimEnd()}`)
  ].join("\n")
}

/** The chart's width for a terminal of `columns` (none: not a terminal, the default width). */
export const widthFor = (columns: number | undefined): number =>
  columns === undefined || columns <= LANE_PREFIX + 20 ? 96 : columns - LANE_PREFIX - 1
