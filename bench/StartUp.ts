/**
 * Section 4: what starting costs. A worker pool of 1 and of 4 threads, from
 * spawn until every worker answered once (`makePool` waits for that), then
 * closed; and, for context, the whole CLI answering `--help` in a fresh
 * process beside a bare `node`.
 */
import { Data, Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { assetPath } from "../src/Assets.js"
import { makePool, type WorkerStartError } from "../src/WorkerPool.js"
import { mean, median, now, timed } from "./Measure.js"
import { ms, print } from "./Table.js"

/** A child process the benchmark starts did not exit cleanly. */
export class SpawnFailed extends Data.TaggedError("SpawnFailed")<{
  readonly command: string
  readonly detail: string
}> {}

// pools of 4 on 2 cores are slow to start: fewer runs keep the whole bench near a minute
const POOL_RUNS = [{ size: 1, runs: 5 }, { size: 4, runs: 3 }] as const
const SPAWN_RUNS = 5

/** One pool start: spawn to first answer of every worker, then the close that follows. */
const startOnce = (size: number) =>
  Effect.gen(function*() {
    const began = yield* now
    const startMs = yield* Effect.scoped(
      Effect.map(timed(makePool({ size, dbPath: assetPath("universe.db") })), (started) => started.ms)
    )
    return { startMs, closeMs: (yield* now) - began - startMs }
  })

const spawnOnce = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const command = `node ${args.join(" ")}`
    const run = yield* timed(Effect.sync(() => spawnSync(process.execPath, args, { encoding: "utf8" })))
    const child = run.value
    if (child.error !== undefined || child.status !== 0) {
      return yield* new SpawnFailed({ command, detail: child.error?.message ?? `exit ${child.status}: ${child.stderr}` })
    }
    return run.ms
  })

const summaryRow = (what: string, times: ReadonlyArray<number>, closeMs = "") => [
  what,
  ms(mean(times)),
  ms(median(times)),
  ms(Math.min(...times)),
  ms(Math.max(...times)),
  closeMs
]

const repeat = <A, E, R>(times: number, self: Effect.Effect<A, E, R>) =>
  Effect.forEach(Array.from({ length: times }), () => self)

export const startUpSection: Effect.Effect<void, WorkerStartError | SpawnFailed> = Effect.gen(function*() {
  const pools = yield* Effect.forEach(POOL_RUNS, ({ runs, size }) =>
    Effect.map(repeat(runs, startOnce(size)), (results) => ({ size, results })))
  const mainJs = assetPath("main.js")
  const bundled = fs.readFileSync(mainJs, "utf8").includes("__createRequire")
  const help = yield* repeat(SPAWN_RUNS, spawnOnce([mainJs, "--help"]))
  const bare = yield* repeat(SPAWN_RUNS, spawnOnce(["-e", "0"]))

  yield* print({
    title: `4. Start-up: worker pools and a fresh CLI process (${SPAWN_RUNS} runs)`,
    header: ["what", "mean ms", "median ms", "min ms", "max ms", "then close ms (mean)"],
    rows: [
      ...pools.map(({ results, size }) =>
        summaryRow(
          `pool of ${size} worker${size === 1 ? "" : "s"}, spawn to first answer (${results.length} runs)`,
          results.map((run) => run.startMs),
          ms(mean(results.map((run) => run.closeMs)))
        )
      ),
      summaryRow(`node dist/main.js --help (${bundled ? "bundled" : "not bundled"})`, help),
      summaryRow("node -e 0 (bare node, for scale)", bare)
    ]
  })
})
