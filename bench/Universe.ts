/**
 * Section 10, a universe the size of the market (only when asked for by
 * name: `npm run bench -- universe`, about six minutes). The sample's rows
 * are copied under new tickers and names into 100,000- and
 * 1,000,000-company CSVs, as a data team's universe would be loaded, and
 * every run is the built CLI in a child process under `/usr/bin/time` (wall
 * time and peak RSS), at zero latency (`--samples 0 --db-latency 0`, no
 * provider latency, no cache):
 *
 * - a 500-company portfolio on the 100,000 universe against the same size
 *   on the sample (wall and RSS ratios);
 * - a 10,000-company portfolio at 2, 16 and 64 permits (every company
 *   scored, RSS);
 * - 200 names not in the universe, 100,000 against the sample, and how
 *   many lines they write to stderr;
 * - 200,000 lines of names not in the sample; a 10 MB file with no line
 *   break; SIGTERM one second into the 200,000-line run;
 * - `import` of 1,000,000 rows;
 * - `--all` on the 100,000 universe at 64 permits to an NDJSON file, then
 *   stopped (SIGINT) after 20,000 companies with a cache and run again: the
 *   rerun's API calls over what the companies still missing need.
 */
import { parse } from "csv-parse/sync"
import { stringify } from "csv-stringify/sync"
import { Data, Effect, Either } from "effect"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assetPath } from "../src/internal/Assets.js"
import { atMost, row, type Row } from "./Row.js"
import type { Measured } from "./Section.js"
import { print } from "./Table.js"

export const universeRows = [
  "universe-p500-wall",
  "universe-p500-rss",
  "universe-p10k-2-rss",
  "universe-p10k-16-rss",
  "universe-p10k-64-rss",
  "universe-unknown-200",
  "universe-lines-200k",
  "universe-lines-200k-rss",
  "universe-one-line",
  "universe-sigterm",
  "universe-import-1m",
  "universe-import-1m-rss",
  "universe-all",
  "universe-all-rss",
  "universe-all-resumed"
] as const

class UniverseRunFailed extends Data.TaggedError("UniverseRunFailed")<{ readonly message: string }> {}

const root = fileURLToPath(new URL("..", import.meta.url))
const ZERO = ["--samples", "0", "--db-latency", "0", "--latency-emissions", "0", "--latency-governance", "0", "--no-cache"]

interface Ran {
  readonly code: number | null
  readonly wallS: number
  readonly rssMb: number
  readonly stdout: string
  readonly stderr: string
}

/** The CLI with `args`, under `/usr/bin/time`; stdout to `outFile` when given (an NDJSON of 100,000 lines). */
const cli = (dir: string, args: ReadonlyArray<string>, outFile?: string): Ran => {
  const timeFile = path.join(dir, "time.txt")
  const out = outFile === undefined ? "pipe" : fs.openSync(outFile, "w")
  const child = spawnSync("/usr/bin/time", ["-f", "%M %e", "-o", timeFile, process.execPath, assetPath("main.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
    stdio: ["ignore", out, "pipe"],
    timeout: 300_000
  })
  if (typeof out === "number") fs.closeSync(out)
  const [kb, seconds] = fs.readFileSync(timeFile, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number)
  return { code: child.status, wallS: seconds!, rssMb: kb! / 1024, stdout: child.stdout ?? "", stderr: child.stderr }
}

/** The summary of a report: a JSON document, or an NDJSON's last line; empty when there is none. */
const summaryOf = (text: string): Record<string, number> => {
  const document = text.trimStart().startsWith("{\n") ? text : text.trimEnd().split("\n").at(-1) ?? ""
  const parsed = Either.try(() => JSON.parse(document) as { readonly summary?: Record<string, number> })
  return Either.isRight(parsed) ? parsed.right.summary ?? {} : {}
}

/** `n` companies: the sample's rows in turn, each under a new ticker (`prefix` and a number) and name. */
const writeUniverse = (file: string, n: number, prefix: string, width: number) => {
  const [header, ...sample] = parse(fs.readFileSync(path.join(root, "data", "universe.csv"), "utf8")) as Array<Array<string>>
  const fd = fs.openSync(file, "w")
  fs.writeSync(fd, stringify([header!]))
  const BATCH = 10_000
  for (let from = 0; from < n; from += BATCH) {
    const batch: Array<Array<string>> = []
    for (let i = from; i < Math.min(n, from + BATCH); i++) {
      const copy = [...sample[i % sample.length]!]
      copy[0] = `${prefix}${String(i).padStart(width, "0")}`
      copy[1] = `Firm ${prefix}${i} Ltd`
      batch.push(copy)
    }
    fs.writeSync(fd, stringify(batch))
  }
  fs.closeSync(fd)
}

const lines = (file: string, n: number, line: (i: number) => string) =>
  fs.writeFileSync(file, Array.from({ length: n }, (_, i) => `${line(i)}\n`).join(""))

/** The ms from SIGTERM, sent `afterMs` into a run, to its end; its exit code and whether it printed a partial report. */
const stopped = (args: ReadonlyArray<string>, afterMs: number) =>
  Effect.async<{ readonly ms: number; readonly code: number | null; readonly partial: boolean }>((resume) => {
    const child = spawn(process.execPath, [assetPath("main.js"), ...args], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
    let stdout = ""
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
    let sentAt = 0
    const timer = setTimeout(() => {
      sentAt = performance.now()
      child.kill("SIGTERM")
    }, afterMs)
    child.on("close", (code) => {
      clearTimeout(timer)
      const partial = /"partial":\s*true/.test(stdout)
      resume(Effect.succeed({ ms: sentAt === 0 ? -1 : performance.now() - sentAt, code, partial }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** Runs `--all` with a cache until `count` companies are scored, then stops it with SIGINT. */
const allUntil = (args: ReadonlyArray<string>, outFile: string, count: number) =>
  Effect.async<number | null>((resume) => {
    const out = fs.openSync(outFile, "w")
    const child = spawn(process.execPath, [assetPath("main.js"), ...args], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
    let scored = 0
    let sent = false
    child.stdout.on("data", (chunk: Buffer) => {
      fs.writeSync(out, chunk)
      scored += chunk.toString().split("\"status\":\"scored\"").length - 1
      if (!sent && scored >= count) {
        sent = true
        child.kill("SIGINT")
      }
    })
    child.on("close", (code) => {
      fs.closeSync(out)
      resume(Effect.succeed(code))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const ratio = (a: number, b: number) => a / Math.max(b, 1e-9)

export const universeSection = Effect.gen(function*() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-bench-universe-"))
  const file = (name: string) => path.join(dir, name)
  yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
  writeUniverse(file("u100k.csv"), 100_000, "Z", 5)
  writeUniverse(file("u1m.csv"), 1_000_000, "Y", 7)
  const sample = (parse(fs.readFileSync(path.join(root, "data", "universe.csv"), "utf8")) as Array<Array<string>>).slice(1)
  lines(file("s500.txt"), sample.length, (i) => sample[i]![0]!)
  lines(file("p500.txt"), 500, (i) => `Z${String(i).padStart(5, "0")}`)
  lines(file("p10k.txt"), 10_000, (i) => `Z${String(i).padStart(5, "0")}`)
  lines(file("unk200.txt"), 200, (i) => `QX${String(i).padStart(4, "0")}`)
  lines(file("unk200k.txt"), 200_000, (i) => `QX${String(i).padStart(6, "0")}`)
  fs.writeFileSync(file("oneline.txt"), "A".repeat(10_000_000))

  const imported = cli(dir, ["import", file("u100k.csv"), "--db", file("u100k.db"), "--synthetic"])
  if (imported.code !== 0) return yield* new UniverseRunFailed({ message: `import of 100,000 rows: ${imported.stderr}` })
  const db = ["--db", file("u100k.db")]
  const rows: Array<Row> = []
  const findings: Array<string> = []
  const table: Array<Array<string>> = []
  const note = (what: string, ran: Ran, extra = "") =>
    table.push([what, `${ran.wallS.toFixed(2)} s`, `${ran.rssMb.toFixed(0)} MB`, `exit ${ran.code}`, extra])

  // 1. 500 companies: the large universe against the sample
  const onSample = cli(dir, ["--input", file("s500.txt"), "--format", "json", ...ZERO])
  const onLarge = cli(dir, ["--input", file("p500.txt"), ...db, "--format", "json", ...ZERO])
  const scored500 = summaryOf(onLarge.stdout).scored
  note("500 on the sample", onSample, `${summaryOf(onSample.stdout).scored} scored`)
  note("500 on the 100,000 universe", onLarge, `${scored500} scored`)
  rows.push(
    row({
      row: "universe-p500-wall",
      what: "500 companies: wall on the 100,000 universe / on the sample",
      value: ratio(onLarge.wallS, onSample.wallS),
      unit: "x",
      target: atMost(1.2),
      requires: scored500 === 500,
      detail: `${onLarge.wallS.toFixed(2)} vs ${onSample.wallS.toFixed(2)} s, ${scored500} of 500 scored`
    }),
    row({
      row: "universe-p500-rss",
      what: "500 companies: peak RSS on the 100,000 universe / on the sample",
      value: ratio(onLarge.rssMb, onSample.rssMb),
      unit: "x",
      target: atMost(1.2),
      detail: `${onLarge.rssMb.toFixed(0)} vs ${onSample.rssMb.toFixed(0)} MB`
    })
  )

  // 2. 10,000 companies at 2, 16 and 64 permits
  for (const permits of [2, 16, 64]) {
    const ran = cli(dir, ["--input", file("p10k.txt"), ...db, "--format", "json", ...ZERO, "--api-concurrency", String(permits)])
    const scored = summaryOf(ran.stdout).scored ?? 0
    note(`10,000 at ${permits} permits`, ran, `${scored} scored`)
    rows.push(row({
      row: `universe-p10k-${permits}-rss`,
      what: `10,000 companies on the 100,000 universe at ${permits} permits: peak RSS, every one scored`,
      value: ran.rssMb,
      unit: "MB",
      target: atMost(300),
      requires: ran.code === 0 && scored === 10_000,
      detail: `${scored} scored in ${ran.wallS.toFixed(1)} s`
    }))
  }

  // 3. 200 unknown names: the large universe against the sample, and summarized
  const unknownSample = cli(dir, ["--input", file("unk200.txt"), "--format", "json", ...ZERO])
  const unknownLarge = cli(dir, ["--input", file("unk200.txt"), ...db, "--format", "json", ...ZERO])
  const stderrLines = unknownLarge.stderr.trimEnd().split("\n").length
  note("200 unknown, sample", unknownSample)
  note("200 unknown, 100,000 universe", unknownLarge, `${stderrLines} stderr lines`)
  rows.push(row({
    row: "universe-unknown-200",
    what: "200 unknown names: wall on the 100,000 universe / on the sample (stderr under 30 lines)",
    value: ratio(unknownLarge.wallS, unknownSample.wallS),
    unit: "x",
    target: atMost(1.2),
    requires: stderrLines < 30,
    detail: `${unknownLarge.wallS.toFixed(2)} vs ${unknownSample.wallS.toFixed(2)} s, ${stderrLines} stderr lines`
  }))

  // 4. 200,000 lines of unknown names; one 10 MB line; SIGTERM one second into the 200,000 lines
  const manyLines = cli(dir, ["--input", file("unk200k.txt"), "--format", "json", ...ZERO])
  const requested = summaryOf(manyLines.stdout).requested
  note("200,000 unknown lines", manyLines, `${requested} requested`)
  const complete = manyLines.code === 3 && requested === 200_000
  rows.push(
    row({
      row: "universe-lines-200k",
      what: "200,000 lines of unknown names: wall (exit 3, every one in the report)",
      value: manyLines.wallS,
      unit: "s",
      target: atMost(10),
      requires: complete,
      detail: `exit ${manyLines.code}, ${requested} in the report`
    }),
    row({ row: "universe-lines-200k-rss", what: "200,000 lines of unknown names: peak RSS", value: manyLines.rssMb, unit: "MB", target: atMost(500), requires: complete })
  )
  const oneLine = cli(dir, ["--input", file("oneline.txt"), "--format", "json", ...ZERO])
  note("a 10 MB line", oneLine)
  rows.push(row({
    row: "universe-one-line",
    what: "a 10 MB file with no line break: time to its answer (exit 2)",
    value: oneLine.wallS,
    unit: "s",
    target: atMost(2),
    requires: oneLine.code === 2 || oneLine.code === 3,
    detail: `exit ${oneLine.code}`
  }))
  const term = yield* stopped(["--input", file("unk200k.txt"), "--format", "json", ...ZERO], 1000)
  table.push(["SIGTERM at 1 s into 200,000 lines", `${term.ms.toFixed(0)} ms`, "", `exit ${term.code}`, term.partial ? "partial report" : "no report"])
  rows.push(row({
    row: "universe-sigterm",
    what: "SIGTERM 1 s into 200,000 lines: ms to the end (exit 143)",
    value: term.ms,
    unit: "ms",
    target: atMost(1000),
    requires: term.code === 143,
    detail: `exit ${term.code}, ${term.partial ? "its partial report" : "no report"}`
  }))

  // 5. import of 1,000,000 rows
  const million = cli(dir, ["import", file("u1m.csv"), "--db", file("u1m.db"), "--synthetic"])
  note("import 1,000,000 rows", million)
  fs.rmSync(file("u1m.csv"))
  fs.rmSync(file("u1m.db"), { force: true })
  rows.push(
    row({ row: "universe-import-1m", what: "import of 1,000,000 rows: wall", value: million.wallS, unit: "s", target: atMost(30), requires: million.code === 0 }),
    row({ row: "universe-import-1m-rss", what: "import of 1,000,000 rows: peak RSS", value: million.rssMb, unit: "MB", target: atMost(300), requires: million.code === 0 })
  )

  // 6. --all, and a rerun after a stop
  const all = cli(dir, ["--all", ...db, "--format", "ndjson", ...ZERO, "--api-concurrency", "64"], file("all.ndjson"))
  const allScored = fs.readFileSync(file("all.ndjson"), "utf8").split("\"status\":\"scored\"").length - 1
  note("--all, 100,000 at 64 permits", all, `${allScored} scored`)
  rows.push(
    row({
      row: "universe-all",
      what: "--all on the 100,000 universe at 64 permits, NDJSON to a file: wall (every company scored)",
      value: all.wallS,
      unit: "s",
      target: atMost(60),
      requires: all.code === 0 && allScored === 100_000,
      detail: `exit ${all.code}, ${allScored} scored`
    }),
    row({ row: "universe-all-rss", what: "--all on the 100,000 universe: peak RSS", value: all.rssMb, unit: "MB", target: atMost(600), requires: all.code === 0 })
  )
  const half = ["--all", ...db, "--samples", "0", "--db-latency", "0", "--latency-emissions", "1ms", "--latency-governance", "1ms", "--api-concurrency", "64", "--cache", file("c.db")]
  const stopCode = yield* allUntil([...half, "--format", "ndjson"], file("h1.ndjson"), 20_000)
  const rerun = cli(dir, [...half, "--format", "json"])
  const again = summaryOf(rerun.stdout)
  const missing = 100_000 - (again.cached ?? 0)
  note("--all stopped at 20,000, then again", rerun, `stop exit ${stopCode}, cached ${again.cached}, ${again.apiCalls} calls`)
  rows.push(row({
    row: "universe-all-resumed",
    what: "--all stopped after 20,000 and run again on its cache: API calls / 2 per company still missing",
    value: ratio(again.apiCalls ?? Infinity, 2 * missing),
    unit: "x",
    target: atMost(1),
    requires: (again.cached ?? 0) >= 20_000 && again.scored === 100_000,
    detail: `${again.cached} cached, ${again.apiCalls} calls, ${again.scored} scored`
  }))
  if (again.scored !== 100_000) findings.push(`universe: the rerun of --all scored ${again.scored} of 100,000`)

  yield* print({
    title: "A universe the size of the market (zero latency, no cache unless said)",
    header: ["run", "wall", "peak RSS", "exit", ""],
    rows: table
  })
  return { rows, findings } satisfies Measured
}).pipe(Effect.scoped)
