/**
 * Real-time figures (not tests), all from one run so that they can be read
 * side by side as ratios on a noisy machine:
 *
 * 1. scoring 20 companies on 2 workers, 1 worker and the main thread;
 * 2. the main event loop's worst delay meanwhile;
 * 3. blocking fundamentals lookups by database pool size;
 * 4. start-up of worker pools and of the CLI;
 * 5. the seed scenario under both schedules, beside the virtual-time optimum.
 *
 * Needs `npm run build` first (dist/worker.js, dist/universe.db, dist/main.js).
 * Every pool lives in a scope that closes before the next section, so the
 * process exits on its own.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Data, Effect } from "effect"
import * as os from "node:os"
import { loadAverage } from "./Machine.js"
import { lookupsSection } from "./Lookups.js"
import { schedulesSection } from "./Schedules.js"
import { scoringSection } from "./Scoring.js"
import { startUpSection } from "./StartUp.js"

/** The three ways of scoring disagreed: a correctness failure, not a slow machine. */
class ScoresDiffer extends Data.TaggedError("ScoresDiffer")<{ readonly message: string }> {}

const program = Effect.gen(function*() {
  yield* Console.log(
    `node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "unknown cpu"}), load average ${loadAverage()}`
  )
  const started = performance.now()
  const scoring = yield* scoringSection
  yield* lookupsSection
  yield* startUpSection
  yield* schedulesSection
  yield* Console.log(
    `\nbench finished in ${((performance.now() - started) / 1000).toFixed(1)} s, load average ${loadAverage()}`
  )
  if (!scoring.identical) {
    return yield* new ScoresDiffer({ message: "workers and main thread produced different scores (see section 1)" })
  }
})

NodeRuntime.runMain(program)
