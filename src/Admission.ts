/**
 * Admission: when each company may start, and when its deadline starts.
 *
 * - `fifo` admits companies one at a time, in input order: the next company
 *   is admitted once the current one holds permits for all its calls (or has
 *   stopped asking), and a company's deadline starts at its first request,
 *   which is its first granted permit. No company burns its deadline
 *   queueing behind others, and at most one company's calls ever wait on
 *   the gate.
 * - `eager` starts every company at once (up to the run's bound on
 *   companies in flight) with one deadline counting from the run's start:
 *   the literal reading of the scenario. With two permits, a 2 s deadline and
 *   2.2 s of API time per company, at most one company can finish.
 *
 * @since 0.2.0
 */
import { type Duration, Effect } from "effect"
import * as Deadline from "./Deadline.js"

export type Schedule = "fifo" | "eager"
export const schedules: ReadonlyArray<Schedule> = ["fifo", "eager"]

/** What a company is started with: its deadline, and the signal that admits the next one. */
export interface Admitted {
  readonly deadline: Deadline.Deadline
  /** Opened once the company holds permits for all its calls, or has stopped asking. */
  readonly admitted: Effect.Latch
}

export interface Admission {
  /**
   * Admits one company: `start` forks it with its deadline and admission
   * signal, and the returned effect completes when the next company may start.
   */
  readonly admit: <E, R>(start: (admission: Admitted) => Effect.Effect<void, E, R>) => Effect.Effect<void, E, R>
}

/**
 * The admission of one run under `schedule`. Under `fifo` each company gets
 * a deadline of its own, started by its first request; under `eager` every
 * company shares one deadline, started now, with the run.
 */
export const make = (schedule: Schedule, timeout: Duration.Duration): Effect.Effect<Admission> =>
  schedule === "fifo"
    ? Effect.succeed({
      admit: (start) =>
        Effect.gen(function*() {
          const admitted = yield* Effect.makeLatch(false)
          yield* start({ deadline: yield* Deadline.make(timeout), admitted })
          yield* admitted.await
        })
    })
    : Effect.map(Deadline.startNow(timeout), (deadline) => ({
      admit: (start) => Effect.flatMap(Effect.makeLatch(false), (admitted) => start({ deadline, admitted }))
    }))
