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
 *   companies in flight) with its deadline counting from its start: the
 *   literal reading of the scenario. With two permits, a 2 s deadline and
 *   2.2 s of API time per company, at most one company can finish.
 *
 * @since 0.2.0
 */
import { Deferred, type Duration, Effect } from "effect"
import * as Deadline from "./Deadline.js"

export type Schedule = "fifo" | "eager"
export const schedules: ReadonlyArray<Schedule> = ["fifo", "eager"]

/** What a company is started with: its deadline, and the signal that admits the next one. */
export interface Admitted {
  readonly deadline: Deadline.Deadline
  /** Completed once the company holds permits for all its calls, or has stopped asking. */
  readonly admitted: Deferred.Deferred<void>
}

/**
 * Admits one company under `schedule`: `start` forks it, and the returned
 * effect completes when the next company may start.
 */
export const admit = <E, R>(
  schedule: Schedule,
  timeout: Duration.Duration,
  start: (admission: Admitted) => Effect.Effect<void, E, R>
): Effect.Effect<void, E, R> =>
  Effect.gen(function*() {
    const deadline = yield* (schedule === "fifo" ? Deadline.make(timeout) : Deadline.startNow(timeout))
    const admitted = yield* Deferred.make<void>()
    yield* start({ deadline, admitted })
    if (schedule === "fifo") yield* Deferred.await(admitted)
  })
