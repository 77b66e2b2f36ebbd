/**
 * Section 4: what starting costs.
 *
 * - The CLI in a fresh process: `node dist/main.js --help` and `--version`
 *   against a bare `node -e 0`, in alternating runs (so that a noisy
 *   neighbour slows all three alike), median of each.
 * - Worker pools of 1 and 4 threads, from spawn until every worker answered
 *   once (`makePool` waits for that), then closed. They are timed in a
 *   plain-`node` child process (`pool-start.mjs`, on the compiled `dist/`),
 *   exactly as the CLI starts them, and once in this process (which runs
 *   under `node --import tsx`) to show that the workers do not inherit the
 *   host's flags (`execArgv: []`): the two pool-of-1 figures should match.
 */
import { Data, Effect, Schema } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { assetPath } from "../src/internal/Assets.js"
import { makePool } from "../src/worker/WorkerPool.js"
import { mean, median, now, timed } from "./Measure.js"
import { atMost, row, type Row } from "./Row.js"
import type { Measured } from "./Section.js"
import { ms, print } from "./Table.js"

/** A child process the benchmark starts did not exit cleanly or said something unexpected. */
export class SpawnFailed extends Data.TaggedError("SpawnFailed")<{
  readonly command: string
  readonly detail: string
}> {}

const SPAWN_RUNS = 7
/** The bound: a CLI that answers `--help` within 4x of a bare node costs almost nothing to start. */
const CLI_TARGET = atMost(4)
/**
 * A pool is up within 1 s. A run starts its pools beside its first API
 * calls: the scoring pool is first needed when the first company's data is
 * complete, 1.2 s in (fifo, the seed scenario), and a database pool up
 * within 1.2 s still gets the first company's 0.8 s lookup inside its 2 s
 * deadline. 4 threads on 2 cores is the harder case (the default pools
 * hold 2 and 3 threads).
 */
const POOL_TARGET = atMost(1000)

export const startUpRows = ["startup-help", "startup-version", "pool-start-1", "pool-start-4", "pool-start-1-tsx"] as const
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

/** `node <args>` and a bare `node -e 0`, alternately, `SPAWN_RUNS` times each; wall times in ms. */
const cliRuns = (mainJs: string) =>
  Effect.gen(function*() {
    const help: Array<number> = []
    const version: Array<number> = []
    const bare: Array<number> = []
    for (let run = 0; run < SPAWN_RUNS; run++) {
      bare.push((yield* node(["-e", "0"])).ms)
      help.push((yield* node([mainJs, "--help"])).ms)
      version.push((yield* node([mainJs, "--version"])).ms)
    }
    return { help, version, bare }
  })

const cliRow = (flag: "--help" | "--version", times: ReadonlyArray<number>, bare: ReadonlyArray<number>): Row =>
  row({
    row: `startup${flag.slice(1)}`,
    what: `node dist/main.js ${flag} / node -e 0 (wall, medians)`,
    value: median(times) / median(bare),
    unit: "x",
    target: CLI_TARGET,
    detail: `${ms(median(times))} vs ${ms(median(bare))} ms`,
    figures: { ms: Math.round(median(times)), bareMs: Math.round(median(bare)), runs: times.length }
  })

const poolRow = (name: string, what: string, startMs: ReadonlyArray<number>, target?: typeof POOL_TARGET): Row =>
  row({
    row: name,
    what,
    value: median(startMs),
    unit: "ms",
    target,
    figures: { runsMs: startMs.map((time) => Math.round(time)) }
  })

export const startUpSection = Effect.gen(function*() {
  const mainJs = assetPath("main.js")
  const bundled = fs.readFileSync(mainJs, "utf8").includes("__createRequire")
  const cli = yield* cliRuns(mainJs)
  const pools = yield* Effect.forEach(CHILD_POOLS, ({ runs, size }) =>
    Effect.map(inChildProcess(size, runs), (times) => ({ size, times })))
  const here = yield* repeat(IN_PROCESS_RUNS, inThisProcess(1))

  yield* print({
    title: "4. Start-up: a fresh CLI process (alternating runs) and worker pools (spawn to every worker's first answer)",
    header: ["what", "runs", "mean ms", "median ms", "min ms", "max ms", "then close ms (mean)"],
    rows: [
      summaryRow(`node dist/main.js --help (${bundled ? "bundled" : "not bundled"})`, cli.help),
      summaryRow("node dist/main.js --version", cli.version),
      summaryRow("node -e 0 (bare node)", cli.bare),
      ...pools.map(({ size, times }) =>
        summaryRow(`pool of ${size}, plain node (as the CLI)`, times.startMs, times.closeMs)
      ),
      summaryRow("pool of 1, in this process (tsx)", here.map((run) => run.startMs), here.map((run) => run.closeMs))
    ],
    notes: [
      "\"in this process\": under --import tsx; workers start with no inherited flags, so it matches plain node"
    ]
  })

  const measured: Measured = {
    rows: [
      cliRow("--help", cli.help, cli.bare),
      cliRow("--version", cli.version, cli.bare),
      ...pools.map(({ size, times }) =>
        poolRow(`pool-start-${size}`, `a pool of ${size} worker thread${size === 1 ? "" : "s"} up (plain node, median)`, times.startMs, POOL_TARGET)
      ),
      poolRow("pool-start-1-tsx", "a pool of 1 up, in the bench's own process (median)", here.map((run) => run.startMs))
    ],
    findings: []
  }
  return measured
})
