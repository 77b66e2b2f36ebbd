/**
 * Section 6, the default run as a user starts it: `node dist/main.js
 * --no-cache --format json` (the five seed companies, worker pools, the
 * simulated providers), a child process under `/usr/bin/time -f '%M %e'`
 * for its peak RSS and wall time, median of three runs. It is read against
 * the same run in virtual time (the schedule alone: 5.6 s) and against the
 * run's own clock (`summary.elapsedMs`): what the wall clock adds outside it
 * is start-up and shutdown. The same run written as an HTML page (`--format
 * html`, which alone loads Vega) is measured beside it: what the page costs.
 */
import { Duration, Effect, Schema } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assetPath } from "../src/internal/Assets.js"
import { Scenario } from "../src/Scenario.js"
import { median, now } from "./Measure.js"
import { atMost, row } from "./Row.js"
import type { Measured } from "./Section.js"
import { SpawnFailed } from "./StartUp.js"
import { print } from "./Table.js"
import { virtualRun } from "./VirtualTime.js"

const RUNS = 3
const ARGS = ["--no-cache", "--format", "json"]
/** The issues' bounds: wall within 1.05x the virtual makespan plus 0.3 s, 0.3 s outside the run's clock, 200 MB. */
const WALL_FACTOR = 1.05
const WALL_SLACK_S = 0.3
const OUTSIDE_TARGET = atMost(0.3)
const RSS_TARGET = atMost(200)

export const defaultRunRows = [
  "default-run-wall",
  "default-run-real-vs-virtual",
  "default-run-outside-clock",
  "default-run-rss",
  "default-run-html-wall",
  "default-run-html-rss"
] as const

const root = fileURLToPath(new URL("..", import.meta.url))

const Report = Schema.parseJson(Schema.Struct({
  summary: Schema.Struct({ elapsedMs: Schema.Number, scored: Schema.Number })
}))

/** `ESG_*` settings of this shell (a cache, a schedule) would make it another run than the default. */
const defaultEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ESG_")))

/** The page's own bounds: within 1.2x the JSON run's wall time, and the default run's memory bound. */
const HTML_WALL_TARGET = atMost(1.2)
const HTML_ARGS = ["--no-cache", "--format", "html"]

/** One run: /usr/bin/time's peak RSS (KB) and wall time (s), and the report's own figures (a page has none). */
const once = (timeFile: string, args: ReadonlyArray<string> = ARGS) =>
  Effect.gen(function*() {
    const command = `/usr/bin/time -f '%M %e' node dist/main.js ${args.join(" ")}`
    const started = yield* now
    const child = yield* Effect.sync(() =>
      spawnSync("/usr/bin/time", ["-f", "%M %e", "-o", timeFile, process.execPath, assetPath("main.js"), ...args], {
        cwd: root,
        encoding: "utf8",
        env: defaultEnv(),
        timeout: 120_000
      })
    )
    const spawnMs = (yield* now) - started
    if (child.error !== undefined || child.status !== 0) {
      return yield* new SpawnFailed({ command, detail: child.error?.message ?? `exit ${child.status}: ${child.stderr}` })
    }
    const [kb, seconds] = fs.readFileSync(timeFile, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number)
    if (args.includes("html")) {
      const rows = child.stdout.split("<tr data-ticker=").length - 1
      if (!child.stdout.endsWith("</html>\n")) return yield* new SpawnFailed({ command, detail: "no whole page on stdout" })
      return { rssMb: kb! / 1024, wallS: seconds!, spawnMs, elapsedS: 0, scored: rows }
    }
    const report = yield* Schema.decode(Report)(child.stdout).pipe(
      Effect.mapError((error) => new SpawnFailed({ command, detail: `its report: ${error.message}` }))
    )
    if (!Number.isFinite(kb) || !Number.isFinite(seconds)) {
      return yield* new SpawnFailed({ command, detail: "no figures from /usr/bin/time" })
    }
    return { rssMb: kb! / 1024, wallS: seconds!, spawnMs, elapsedS: report.summary.elapsedMs / 1000, scored: report.summary.scored }
  })

export const defaultRunSection = Effect.gen(function*() {
  const virtual = yield* virtualRun({ inputs: Scenario.companies, options: { schedule: "fifo" }, advance: Duration.seconds(60) })
  const virtualS = virtual.elapsedMs / 1000
  const pairs = yield* Effect.acquireUseRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "esg-bench-"))),
    // a JSON run, then a page, in turns: a busy neighbour weighs on both alike
    (dir) => Effect.forEach(Array.from({ length: RUNS }), () => Effect.all([once(path.join(dir, "time.txt")), once(path.join(dir, "time.txt"), HTML_ARGS)])),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )
  const pages = pairs.map(([, page]) => page)
  const runs = pairs.map(([run]) => run)
  const wallS = median(runs.map((run) => run.wallS))
  const pageWallS = median(pages.map((page) => page.wallS))
  const pageRssMb = median(pages.map((page) => page.rssMb))
  const pagesWhole = pages.every((page) => page.scored === Scenario.companies.length)
  const outsideS = median(runs.map((run) => run.wallS - run.elapsedS))
  const rssMb = median(runs.map((run) => run.rssMb))
  const companies = Scenario.companies.length
  const allScored = runs.every((run) => run.scored === companies)
  const wallTarget = atMost(Math.round((WALL_FACTOR * virtualS + WALL_SLACK_S) * 1000) / 1000)
  const figures = {
    runs: RUNS,
    wallS: runs.map((run) => run.wallS),
    elapsedS: runs.map((run) => Math.round(run.elapsedS * 1000) / 1000),
    rssMb: runs.map((run) => Math.round(run.rssMb)),
    virtualS,
    scored: runs.map((run) => run.scored),
    spawnMs: runs.map((run) => Math.round(run.spawnMs))
  }

  yield* print({
    title: `6. The default run: node dist/main.js ${ARGS.join(" ")} (${RUNS} runs, /usr/bin/time)`,
    header: ["run", "wall s", "its own clock s", "outside s", "peak RSS MB", "scored"],
    rows: runs.map((run, i) => [
      String(i + 1),
      run.wallS.toFixed(2),
      run.elapsedS.toFixed(2),
      (run.wallS - run.elapsedS).toFixed(2),
      run.rssMb.toFixed(0),
      `${run.scored} of ${companies}`
    ]),
    notes: [
      `the same run in virtual time: ${virtualS.toFixed(1)} s (the schedule alone)`,
      `as an HTML page (--format html): ${pages.map((page) => `${page.wallS.toFixed(2)} s, ${page.rssMb.toFixed(0)} MB`).join("; ")}`
    ]
  })

  const measured: Measured = {
    rows: [
      row({
        row: "default-run-wall",
        what: "the default run's wall time (median)",
        value: wallS,
        unit: "s",
        target: wallTarget,
        requires: allScored,
        figures
      }),
      row({
        row: "default-run-real-vs-virtual",
        what: "the default run: wall / virtual makespan",
        value: wallS / virtualS,
        unit: "x",
        target: atMost(Math.round((WALL_FACTOR + WALL_SLACK_S / virtualS) * 1000) / 1000),
        requires: allScored,
        detail: `${wallS.toFixed(2)} s / ${virtualS.toFixed(1)} s`,
        figures
      }),
      row({
        row: "default-run-outside-clock",
        what: "the default run: wall - its own clock (start-up, shutdown)",
        value: outsideS,
        unit: "s",
        target: OUTSIDE_TARGET,
        requires: allScored,
        figures
      }),
      row({
        row: "default-run-rss",
        what: "the default run's peak RSS (median)",
        value: rssMb,
        unit: "MB",
        target: RSS_TARGET,
        requires: allScored,
        figures
      }),
      row({
        row: "default-run-html-wall",
        what: "the default run written as an HTML page / as JSON (wall, medians)",
        value: pageWallS / wallS,
        unit: "x",
        target: HTML_WALL_TARGET,
        requires: pagesWhole,
        detail: `${pageWallS.toFixed(2)} s vs ${wallS.toFixed(2)} s`,
        figures: { ...figures, pageWallS: pages.map((page) => page.wallS), pageRssMb: pages.map((page) => Math.round(page.rssMb)) }
      }),
      row({
        row: "default-run-html-rss",
        what: "the default run written as an HTML page: peak RSS (median)",
        value: pageRssMb,
        unit: "MB",
        target: RSS_TARGET,
        requires: pagesWhole
      })
    ],
    findings: allScored
      ? []
      : [`the default run scored ${runs.map((run) => run.scored).join(", ")} of ${companies} in its ${RUNS} runs`]
  }
  return measured
})
