/**
 * Runs of the real application in virtual time (`TestClock`), the way the
 * tests drive it: fork the run, move the clock, join. What a run takes in
 * virtual time is what the schedule alone costs: the makespan the wall
 * clock is compared with.
 */
import { Data, Duration, Effect, Fiber, Logger, LogLevel, Option, TestClock, TestContext, TestServices } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import type { RunOptions } from "../src/RunConfig.js"
import type { RunSummary } from "../src/Summary.js"
import * as App from "../src/App.js"
import type { CompanyRecord } from "../src/Domain.js"

/** A virtual-time run had not finished when the clock had moved as far as it was allowed to. */
export class VirtualRunUnfinished extends Data.TaggedError("VirtualRunUnfinished")<{ readonly message: string }> {}

/** How long, in real time, the run may take to finish once the clock has moved: it fails instead of hanging. */
const REAL_TIME_BOUND = Duration.seconds(120)

export interface VirtualRun {
  readonly inputs: ReadonlyArray<string>
  /** The universe the simulated sources serve (default: the sample universe). */
  readonly records?: ReadonlyArray<CompanyRecord> | undefined
  readonly options: RunOptions
  /** How far to move the clock: at least the run's makespan. */
  readonly advance: Duration.DurationInput
}

/**
 * One run on a fresh application (simulated sources at the scenario's
 * latencies, the inline scorer with no Monte Carlo samples: a score costs
 * no virtual time), its summary once it finished.
 */
export const virtualRun = (run: VirtualRun): Effect.Effect<RunSummary, VirtualRunUnfinished> =>
  isolated(underTestClock(run))

/**
 * Runs `self` in a fiber of its own and takes its exit without joining it:
 * a join would carry the fiber's references back into this one, and with
 * them the `TestClock` as this fiber's clock (a later real-time sleep would
 * then never end).
 */
const isolated = <A, E>(self: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.flatMap(Effect.fork(self), (fiber) => Effect.flatten(Fiber.await(fiber)))

const underTestClock = (run: VirtualRun): Effect.Effect<RunSummary, VirtualRunUnfinished> =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(
      Effect.flatMap(Aggregator, (aggregator) => aggregator.run(run.inputs, run.options)).pipe(
        Effect.provide(App.layer({ records: run.records, config: { samples: 0 } })),
        Effect.orDie
      )
    )
    yield* TestClock.adjust(run.advance)
    const joined = yield* Effect.raceFirst(
      Effect.asSome(Fiber.join(fiber)),
      TestServices.provideLive(Effect.as(Effect.sleep(REAL_TIME_BOUND), Option.none()))
    )
    if (Option.isNone(joined)) {
      yield* Fiber.interrupt(fiber)
      return yield* new VirtualRunUnfinished({
        message: `${run.inputs.length} companies had not finished after ${Duration.format(run.advance)} of virtual time`
      })
    }
    return joined.value.summary
  }).pipe(
    // skips are expected (eager); their error logs would break the tables
    Logger.withMinimumLogLevel(LogLevel.None),
    Effect.provide(TestContext.TestContext)
  )
