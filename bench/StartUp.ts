/**
 * Section 4: what starting costs. Worker pools of 1 and 4 threads, from
 * spawn until every worker answered once (`makePool` waits for that), then
 * closed; and, for context, the whole CLI answering `--help` in a fresh
 * process beside a bare `node`.
 *
 * The pools are timed in a plain-`node` child process (`pool-start.mjs`, on
 * the compiled `dist/`), exactly as the CLI starts them, and once in this
 * process (which runs under `node --import tsx`) to show that the workers do
 * not inherit the host's flags (`execArgv: []`): the two rows should match.
 */
import { Data, Effect, Schema } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { assetPath } from "../src/internal/Assets.js"
import { makePool, type WorkerStartError } from "../src/worker/WorkerPool.js"
import { mean, median, now, timed } from "./Measure.js"
import { ms, print } from "./Table.js"

/** A child process the benchmark starts did not exit cleanly or said something unexpected. */
export class SpawnFailed extends Data.TaggedError("SpawnFailed")<{
  readonly command: string
  readonly detail: string
}> {}

const SPAWN_RUNS = 5
// pools of 4 on 2 cores are slow to start: fewer runs keep the whole bench near a minute
const CHILD_POOLS = [{ size: 1, runs: 5 }, { size: 4, runs: 3 }] as const
const IN_PROCESS_RUNS = 3

const probe = fileURLToPath(new URL("./pool-start.mjs", import.meta.url))
const root = fileURLToPath(new URL("..", import.meta.url))

const PoolTimes = Schema.parseJson(Schema.Struct({
  startMs: Schema.Array(Schema.Number),
  closeMs: Schema.Array(Schema.Number)
}))

/** Runs `node <args>` to completion; its stdout and wall time. */
const node = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const command = `node ${args.join(" ")}`
    const run = yield* timed(Effect.sync(() =>
      spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 60_000 })
    ))
    const child = run.value
    if (child.error !== undefined || child.status !== 0) {
      return yield* new SpawnFailed({ command, detail: child.error?.message ?? `exit ${child.status}: ${child.stderr}` })
    }
    return { stdout: child.stdout, ms: run.ms }
  })

const inChildProcess = (size: number, runs: number) =>
  Effect.gen(function*() {
    const child = yield* node([probe, String(size), String(runs), assetPath("universe.db")])
    return yield* Schema.decode(PoolTimes)(child.stdout.trim()).pipe(
      Effect.mapError((error) => new SpawnFailed({ command: "pool-start.mjs", detail: error.message }))
    )
  })

/** One pool start in this process: spawn to first answer of every worker, then the close that follows. */
const inThisProcess = (size: number) =>
  Effect.gen(function*() {
    const began = yield* now
    const startMs = yield* Effect.scoped(
      Effect.map(timed(makePool({ size, dbPath: assetPath("universe.db") })), (started) => started.ms)
    )
    return { startMs, closeMs: (yield* now) - began - startMs }
  })

const repeat = <A, E, R>(times: number, self: Effect.Effect<A, E, R>) =>
  Effect.forEach(Array.from({ length: times }), () => self)

const summaryRow = (what: string, times: ReadonlyArray<number>, closeMs: ReadonlyArray<number> = []) => [
  what,
  String(times.length),
  ms(mean(times)),
  ms(median(times)),
  ms(Math.min(...times)),
  ms(Math.max(...times)),
  closeMs.length === 0 ? "" : ms(mean(closeMs))
]

export const startUpSection: Effect.Effect<void, WorkerStartError | SpawnFailed> = Effect.gen(function*() {
  const pools = yield* Effect.forEach(CHILD_POOLS, ({ runs, size }) =>
    Effect.map(inChildProcess(size, runs), (times) => ({ size, times })))
  const here = yield* repeat(IN_PROCESS_RUNS, inThisProcess(1))
  const mainJs = assetPath("main.js")
  const bundled = fs.readFileSync(mainJs, "utf8").includes("__createRequire")
  const help = yield* repeat(SPAWN_RUNS, Effect.map(node([mainJs, "--help"]), (run) => run.ms))
  const bare = yield* repeat(SPAWN_RUNS, Effect.map(node(["-e", "0"]), (run) => run.ms))

  yield* print({
    title: "4. Start-up: worker pools (spawn to every worker's first answer) and a fresh CLI process",
    header: ["what", "runs", "mean ms", "median ms", "min ms", "max ms", "then close ms (mean)"],
    rows: [
      ...pools.map(({ size, times }) =>
        summaryRow(`pool of ${size}, plain node (as the CLI)`, times.startMs, times.closeMs)
      ),
      summaryRow("pool of 1, in this process (tsx)", here.map((run) => run.startMs), here.map((run) => run.closeMs)),
      summaryRow(`node dist/main.js --help (${bundled ? "bundled" : "not bundled"})`, help),
      summaryRow("node -e 0 (bare node)", bare)
    ],
    notes: [
      "\"in this process\": under --import tsx; workers start with no inherited flags, so it matches plain node"
    ]
  })
})
