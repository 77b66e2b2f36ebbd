/**
 * The live progress line on a terminal: companies done, skipped, cached,
 * API calls in flight, the time so far and an estimate of the time left.
 * Shown on stderr only when it is a terminal, and only for runs longer than
 * two seconds; redrawn four times a second, erased at the end.
 *
 * @since 0.3.0
 */
import { Clock, Duration, Effect, Option, Ref } from "effect"
import type { Reported } from "../Intake.js"
import { ApiGate } from "../ApiGate.js"
import { Output } from "./Output.js"

export interface Counts {
  readonly total: number
  readonly done: number
  readonly skipped: number
  readonly cached: number
  readonly inFlight: number
  readonly elapsedMs: number
  /** The call in flight the longest, once it has been out for `LONG_CALL` or more. */
  readonly waiting?: { readonly source: string; readonly ticker: string; readonly forMs: number } | undefined
}

/** A call out this long is named on the progress line: a run that seems stuck says what it waits on. */
export const LONG_CALL = Duration.seconds(5)

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/**
 * The estimate of the time left: the companies left at the pace of those
 * finished so far, or, before any has finished, at `perCompanyMs` each
 * (the schedule's: both external calls of a company over the permits).
 */
export const etaMs = (counts: Counts, perCompanyMs: number): number => {
  const finished = counts.done + counts.skipped
  const left = Math.max(0, counts.total - finished)
  const computed = finished - counts.cached
  return left * (computed > 0 ? counts.elapsedMs / computed : perCompanyMs)
}

export const progressLine = (counts: Counts, perCompanyMs: number): string =>
  `${counts.done + counts.skipped}/${counts.total} done: ${counts.done} scored (${counts.cached} cached), ${counts.skipped} skipped; ` +
  `${counts.inFlight} API call${counts.inFlight === 1 ? "" : "s"} in flight; ${seconds(counts.elapsedMs)} elapsed, about ${
    seconds(etaMs(counts, perCompanyMs))
  } left${
    counts.waiting === undefined
      ? ""
      : `; waiting ${seconds(counts.waiting.forMs)} on ${counts.waiting.source} for ${counts.waiting.ticker}`
  }`

/**
 * Tracks a run of `total` companies: `onOutcome` counts each outcome, and
 * `show` (forked for the run's length) draws the line once the run is two
 * seconds old, if stderr is a terminal.
 */
export const makeProgress = (total: number, perCompanyMs: number) =>
  Effect.gen(function*() {
    const output = yield* Output
    const gate = yield* ApiGate
    const start = yield* Clock.currentTimeMillis
    const counts = yield* Ref.make({ done: 0, skipped: 0, cached: 0, total })
    const onOutcome = ({ outcome }: Reported) =>
      Ref.update(counts, (c) =>
        outcome._tag === "Scored"
          ? { ...c, done: c.done + 1, cached: c.cached + (outcome.cachedAt === undefined ? 0 : 1) }
          : { ...c, skipped: c.skipped + 1 })
    const draw = Effect.gen(function*() {
      const c = yield* Ref.get(counts)
      const stats = yield* gate.stats
      const now = yield* Clock.currentTimeMillis
      const oldest = yield* gate.oldestCall
      const waiting = Option.isSome(oldest) && now - oldest.value.sinceMs >= Duration.toMillis(LONG_CALL)
        ? { source: oldest.value.source, ticker: oldest.value.ticker, forMs: now - oldest.value.sinceMs }
        : undefined
      yield* output.status(progressLine({ ...c, inFlight: stats.inFlight, elapsedMs: now - start, waiting }, perCompanyMs))
    })
    const show = output.stderrIsTerminal
      ? Effect.zipRight(Effect.sleep(Duration.seconds(2)), Effect.forever(Effect.zipRight(draw, Effect.sleep("250 millis")))).pipe(
        Effect.ensuring(output.status(""))
      )
      : Effect.void
    /** The companies the run is asked for, duplicates dropped: what the report's `requested` will say. */
    const onRequested = (requested: number) => Ref.update(counts, (c) => ({ ...c, total: requested }))
    return { onOutcome, onRequested, show, counts: Ref.get(counts) }
  })
