/**
 * The second pass (`RunOptions.secondPass`): a company the first pass
 * skipped for a transient reason of its own (a missed deadline, a
 * connection error, 5xx, 429) is held back, not reported, and run once more
 * after the first pass, with a fresh deadline; its second outcome is
 * reported, marked `secondPass`. A run stopped before then reports the
 * first outcome of each company still waiting: every company is reported
 * exactly once.
 *
 * @since 0.4.0
 */
import { Effect } from "effect"
import * as Admission from "./Admission.js"
import type { Job, Reported } from "./Intake.js"
import type { RunConfig } from "./RunConfig.js"

export interface SecondPass {
  /** Whether the first pass's `reported` outcome of `job` is held back for the second pass. */
  readonly holds: (job: Job, reported: Reported) => boolean
  /**
   * Runs the held jobs, in input order, each started by `start` under one
   * fresh admission; `done` waits for the companies started.
   */
  readonly run: (
    start: (admission: Admission.Admission, job: Job) => Effect.Effect<void>,
    done: Effect.Effect<void>
  ) => Effect.Effect<void>
  /** The second outcome of the company at `index` was reported. */
  readonly settle: (index: number) => void
  /** The first outcomes of the companies still waiting for their second. */
  readonly waiting: () => ReadonlyArray<Reported>
}

/**
 * The second pass of one run. Its collections are written in single
 * synchronous steps by the run's company fibers and read once the first
 * pass is over (or the run stopped).
 */
export const make = (config: Pick<RunConfig, "secondPass" | "schedule" | "timeout">): SecondPass => {
  const jobs: Array<Job> = []
  const held = new Map<number, Reported>()
  return {
    holds: (job, reported) => {
      const { outcome } = reported
      if (!config.secondPass || outcome._tag !== "Skipped" || !outcome.transient) return false
      jobs.push(job)
      held.set(reported.index, reported)
      return true
    },
    run: (start, done) =>
      Effect.suspend(() =>
        jobs.length === 0 ? Effect.void : Effect.gen(function*() {
          const inOrder = jobs.sort((a, b) => a.index - b.index)
          yield* Effect.logInfo("Second pass").pipe(Effect.annotateLogs({ companies: inOrder.length }))
          const admission = yield* Admission.make(config.schedule, config.timeout)
          yield* Effect.forEach(inOrder, (job) => start(admission, job), { discard: true })
          yield* done
        })
      ),
    settle: (index) => void held.delete(index),
    waiting: () => [...held.values()]
  }
}
