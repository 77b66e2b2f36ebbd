/**
 * Section 9: throughput at a bigger quota, the program as users run it
 * (`node dist/main.js`) beside a plain-Promise program of the same
 * semantics (`promise-http.mjs`), both against one `serve-providers` at
 * 50 ms latencies in a process of its own: the 500 sample companies, over
 * HTTP, at 2, 16 and 64 permits (`--db-latency 0 --samples 0`: what is left
 * is the program's own cost). Each run under `/usr/bin/time`: wall, peak
 * RSS, CPU of all its threads. One more run at the scenario's own latencies
 * (1.2 s, 1.0 s, 0.8 s blocking lookups on worker threads), simulated
 * providers, 16 permits, 100 companies, read against its bound
 * (100 × 2.2 s / 16 = 13.75 s).
 *
 * Rows per quota, each with the target: the makespan against the
 * Promise program's (≤ 1.1×), the companies scored (all), peak RSS
 * (≤ 200 MB), CPU against the Promise program's (≤ 2×).
 */
import { Data, Effect, Schema } from "effect"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assetPath } from "../src/internal/Assets.js"
import { progress } from "./Output.js"
import { atLeast, atMost, row, type Row } from "./Row.js"
import type { Measured } from "./Section.js"
import { print } from "./Table.js"

/** A process of the section failed, or printed something other than its figures. */
export class ThroughputFailed extends Data.TaggedError("ThroughputFailed")<{
  readonly command: string
  readonly detail: string
}> {
  override get message() {
    return `${this.command}: ${this.detail}`
  }
}

const QUOTAS = [2, 16, 64] as const
const LATENCY = "50ms"
const SCENARIO = { permits: 16, companies: 100, boundS: (100 * 2.2) / 16 } as const
const TARGETS = { makespan: 1.1, scenarioMakespan: 1.05, rssMb: 200, cpu: 2 } as const

export const throughputRows = [
  ...QUOTAS.flatMap((p) => [`throughput-${p}-makespan`, `throughput-${p}-scored`, `throughput-${p}-rss`, `throughput-${p}-cpu`]),
  "throughput-scenario-makespan",
  "throughput-scenario-scored",
  "throughput-scenario-rss"
] as const

const root = fileURLToPath(new URL("..", import.meta.url))
const peer = fileURLToPath(new URL("./promise-http.mjs", import.meta.url))

/** What `/usr/bin/time -f '%M %e %U %S'` says of one process. */
interface Timed {
  readonly rssMb: number
  readonly wallS: number
  readonly cpuS: number
  readonly stdout: string
}

/** Runs `node ARGS` to its end under `/usr/bin/time`. */
const timedNode = (args: ReadonlyArray<string>, dir: string) =>
  Effect.gen(function*() {
    const timeFile = path.join(dir, "time.txt")
    const command = `node ${args.join(" ")}`
    const child = yield* Effect.sync(() =>
      spawnSync("/usr/bin/time", ["-f", "%M %e %U %S", "-o", timeFile, process.execPath, ...args], {
        cwd: root,
        encoding: "utf8",
        // `ESG_*` settings of this shell (a cache, a store) would make it another run
        env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ESG_"))),
        maxBuffer: 64 * 1024 * 1024,
        timeout: 300_000
      })
    )
    if (child.error !== undefined || (child.status !== 0 && child.status !== 3)) {
      return yield* new ThroughputFailed({ command, detail: child.error?.message ?? `exit ${child.status}: ${child.stderr.slice(-400)}` })
    }
    const [kb, wall, user, system] = fs.readFileSync(timeFile, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number)
    if ([kb, wall, user, system].some((n) => !Number.isFinite(n))) {
      return yield* new ThroughputFailed({ command, detail: "no figures from /usr/bin/time" })
    }
    return { rssMb: kb! / 1024, wallS: wall!, cpuS: user! + system!, stdout: child.stdout } satisfies Timed
  })

const Summary = Schema.parseJson(Schema.Struct({
  summary: Schema.Struct({ elapsedMs: Schema.Number, scored: Schema.Number, requested: Schema.Number })
}))
const PeerFigures = Schema.parseJson(Schema.Struct({ scored: Schema.Number, n: Schema.Number, ms: Schema.Number }))

/** The figures a process printed: its whole stdout (a JSON report), or its last line (the Promise program's). */
const decodeOr = <A>(schema: Schema.Schema<A, string>, command: string, part: "all" | "last line") => (text: string) =>
  Schema.decode(schema)(part === "all" ? text : text.trim().split("\n").at(-1) ?? "").pipe(
    Effect.mapError((error) => new ThroughputFailed({ command, detail: `its figures: ${error.message}` }))
  )

/** `serve-providers` at 50 ms in a process of its own, listening; stopped when the scope closes. */
const providers = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly child: ChildProcess }, ThroughputFailed>((resume) => {
    const child = spawn(process.execPath, [assetPath("main.js"), "serve-providers", "--port", "0", "--latency-emissions", LATENCY, "--latency-governance", LATENCY, "--log-level", "warning"], { cwd: root })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const found = /listening on (\S+)/.exec(out)
      if (found !== null) resume(Effect.succeed({ url: found[1]!, child }))
    })
    child.once("exit", (code) => resume(Effect.fail(new ThroughputFailed({ command: "serve-providers", detail: `exited ${code} before listening` }))))
  }),
  ({ child }) => Effect.sync(() => void child.kill("SIGKILL"))
)

interface QuotaRun {
  readonly permits: number
  readonly ours: Timed & { readonly scored: number; readonly clockS: number }
  readonly promise: Timed & { readonly scored: number }
}

const quotaRows = (run: QuotaRun): ReadonlyArray<Row> => {
  const p = run.permits
  const n = run.ours.scored
  const figures = {
    permits: p,
    oursWallS: run.ours.wallS,
    oursClockS: Math.round(run.ours.clockS * 1000) / 1000,
    promiseWallS: run.promise.wallS,
    oursRssMb: Math.round(run.ours.rssMb),
    promiseRssMb: Math.round(run.promise.rssMb),
    oursCpuS: Math.round(run.ours.cpuS * 100) / 100,
    promiseCpuS: Math.round(run.promise.cpuS * 100) / 100,
    oursScored: n,
    promiseScored: run.promise.scored
  }
  return [
    row({
      row: `throughput-${p}-makespan`,
      what: `500 companies over HTTP at 50 ms, ${p} permits: wall / the Promise program's`,
      value: run.ours.wallS / run.promise.wallS,
      unit: "x",
      target: atMost(TARGETS.makespan),
      detail: `${run.ours.wallS.toFixed(2)} s vs ${run.promise.wallS.toFixed(2)} s`,
      figures
    }),
    row({
      row: `throughput-${p}-scored`,
      what: `500 companies over HTTP at 50 ms, ${p} permits: companies scored`,
      value: n,
      unit: "companies",
      target: atLeast(500),
      detail: `of 500`,
      figures
    }),
    row({
      row: `throughput-${p}-rss`,
      what: `500 companies over HTTP at 50 ms, ${p} permits: peak RSS`,
      value: run.ours.rssMb,
      unit: "MB",
      target: atMost(TARGETS.rssMb),
      detail: `the Promise program ${run.promise.rssMb.toFixed(0)} MB`,
      figures
    }),
    row({
      row: `throughput-${p}-cpu`,
      what: `500 companies over HTTP at 50 ms, ${p} permits: CPU of all threads / the Promise program's`,
      value: run.ours.cpuS / run.promise.cpuS,
      unit: "x",
      target: atMost(TARGETS.cpu),
      detail: `${run.ours.cpuS.toFixed(2)} s vs ${run.promise.cpuS.toFixed(2)} s`,
      figures
    })
  ]
}

export const throughputSection = Effect.scoped(Effect.gen(function*() {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "esg-throughput-"))),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )
  const tickers = fs.readFileSync(path.join(root, "data", "universe.csv"), "utf8").split("\n").slice(1)
    .map((line) => line.split(",")[0]!.trim()).filter((ticker) => ticker !== "")
  const all = path.join(dir, "all.txt")
  const some = path.join(dir, "some.txt")
  fs.writeFileSync(all, tickers.join("\n"))
  fs.writeFileSync(some, tickers.slice(0, SCENARIO.companies).join("\n"))
  const server = yield* providers

  const runs: Array<QuotaRun> = []
  for (const permits of QUOTAS) {
    yield* progress(`throughput: ${permits} permits, this program...`)
    const oursArgs = [
      assetPath("main.js"), "--format", "json", "--input", all, "--api-concurrency", String(permits),
      "--db-latency", "0", "--samples", "0", "--no-cache", "--emissions-url", server.url, "--governance-url", server.url
    ]
    const ours = yield* timedNode(oursArgs, dir)
    const report = yield* decodeOr(Summary, "node dist/main.js", "all")(ours.stdout)
    yield* progress(`throughput: ${permits} permits, the Promise program...`)
    const promise = yield* timedNode([peer, all, String(permits), server.url], dir)
    const peerFigures = yield* decodeOr(PeerFigures, "promise-http.mjs", "last line")(promise.stdout)
    runs.push({
      permits,
      ours: { ...ours, scored: report.summary.scored, clockS: report.summary.elapsedMs / 1000 },
      promise: { ...promise, scored: peerFigures.scored }
    })
  }

  yield* progress("throughput: the scenario's latencies, 16 permits, 100 companies...")
  const scenario = yield* timedNode([
    assetPath("main.js"), "--format", "json", "--input", some, "--api-concurrency", String(SCENARIO.permits), "--samples", "0", "--no-cache"
  ], dir)
  const scenarioReport = yield* decodeOr(Summary, "node dist/main.js", "all")(scenario.stdout)
  const scenarioClockS = scenarioReport.summary.elapsedMs / 1000

  yield* print({
    title: `9. Throughput: 500 companies over HTTP at ${LATENCY}, this program beside a Promise program (/usr/bin/time)`,
    header: ["permits", "wall s (Promise)", "run clock s", "scored", "peak RSS MB (Promise)", "CPU s (Promise)"],
    rows: [
      ...runs.map((run) => [
        String(run.permits),
        `${run.ours.wallS.toFixed(2)} (${run.promise.wallS.toFixed(2)})`,
        run.ours.clockS.toFixed(2),
        `${run.ours.scored} (${run.promise.scored})`,
        `${run.ours.rssMb.toFixed(0)} (${run.promise.rssMb.toFixed(0)})`,
        `${run.ours.cpuS.toFixed(2)} (${run.promise.cpuS.toFixed(2)})`
      ]),
      [
        `${SCENARIO.permits}, scenario latencies, ${SCENARIO.companies} companies`,
        scenario.wallS.toFixed(2),
        `${scenarioClockS.toFixed(2)} (bound ${SCENARIO.boundS.toFixed(2)})`,
        String(scenarioReport.summary.scored),
        scenario.rssMb.toFixed(0),
        scenario.cpuS.toFixed(2)
      ]
    ],
    notes: ["the scenario run: simulated providers at 1.2 s and 1.0 s, lookups blocking 0.8 s on worker threads"]
  })

  const scenarioFigures = {
    permits: SCENARIO.permits,
    companies: SCENARIO.companies,
    boundS: SCENARIO.boundS,
    clockS: scenarioClockS,
    wallS: scenario.wallS,
    rssMb: Math.round(scenario.rssMb),
    cpuS: Math.round(scenario.cpuS * 100) / 100,
    scored: scenarioReport.summary.scored
  }
  const measured: Measured = {
    rows: [
      ...runs.flatMap(quotaRows),
      row({
        row: "throughput-scenario-makespan",
        what: "the scenario's latencies, 16 permits, 100 companies: run clock / bound 13.75 s",
        value: scenarioClockS / SCENARIO.boundS,
        unit: "x",
        target: atMost(TARGETS.scenarioMakespan),
        detail: `${scenarioClockS.toFixed(2)} s`,
        figures: scenarioFigures
      }),
      row({
        row: "throughput-scenario-scored",
        what: "the scenario's latencies, 16 permits, 100 companies: companies scored",
        value: scenarioReport.summary.scored,
        unit: "companies",
        target: atLeast(SCENARIO.companies),
        detail: `of ${SCENARIO.companies}`,
        figures: scenarioFigures
      }),
      row({
        row: "throughput-scenario-rss",
        what: "the scenario's latencies, 16 permits, 100 companies: peak RSS",
        value: scenario.rssMb,
        unit: "MB",
        target: atMost(TARGETS.rssMb),
        figures: scenarioFigures
      })
    ],
    findings: []
  }
  return measured
}))
