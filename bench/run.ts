/**
 * Real-time figures (not tests), all from one run so that they can be read
 * side by side as ratios on a noisy machine; every row has its figure, its
 * target (or none: it informs) and whether the figure meets it:
 *
 * 1. scoring 20 companies on 2 workers, 1 worker and the main thread;
 * 2. the main event loop's worst delay meanwhile;
 * 3. blocking fundamentals lookups by database pool size;
 * 4. start-up of the CLI and of worker pools;
 * 5. the schedules' efficiency in virtual time (N up to 1,000), and the
 *    seed scenario on the wall clock;
 * 6. the default run (`node dist/main.js`): wall time, time outside its own
 *    clock, peak RSS;
 * 7. the pipeline at scale (100,000 companies, cold and warm) beside a
 *    plain-Promise peer;
 * 8. a million companies streamed (only when asked for by name);
 * 9. throughput at a bigger quota: the CLI over HTTP at 2, 16 and 64
 *    permits beside a plain-Promise program, and the scenario at 16;
 * 10. a universe the size of the market (only when asked for by name,
 *    about six minutes; its rows go to their own block of
 *    `bench/RESULTS.md`).
 *
 * `npm run bench -- [name...] [--json]`: names pick sections (`scoring`,
 * `lookups`, `startup`, `schedules`, `default-run`, `scale`, `scale-1m`,
 * `throughput`, `universe`) or
 * rows (`startup-help`, `scale-cold`, ...: a section runs whole, and only
 * the rows named are reported). With no names every section but `scale-1m`
 * runs, and the rows are written to `bench/RESULTS.md` (`Results.ts`). With
 * `--json`, stdout carries only one JSON line per reported row (see
 * `Row.ts`) and the tables go to stderr.
 *
 * Needs `npm run build` first (dist/worker.js, dist/universe.db, dist/main.js).
 * Every pool lives in a scope that closes before the next section, so the
 * process exits on its own.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Data, Effect } from "effect"
import { defaultRunRows, defaultRunSection } from "./DefaultRun.js"
import { lookupsRows, lookupsSection } from "./Lookups.js"
import { describeMachine, loadAverage } from "./Machine.js"
import { jsonLine, logToStderr } from "./Output.js"
import { markdownTable, writeResults, writeSectionResults } from "./Results.js"
import { jsonOf } from "./Row.js"
import { millionSection, scaleRows, scaleSection } from "./Scale.js"
import { schedulesRows, schedulesSection } from "./Schedules.js"
import { scoringRows, scoringSection } from "./Scoring.js"
import { type Section, section } from "./Section.js"
import { throughputRows, throughputSection } from "./Throughput.js"
import { startUpRows, startUpSection } from "./StartUp.js"
import { universeRows, universeSection } from "./Universe.js"

/** A section found a correctness failure (workers and main thread scoring differently, a run scoring fewer): not a slow machine. */
class CorrectnessFailure extends Data.TaggedError("CorrectnessFailure")<{ readonly message: string }> {}

/** The command line named no section or row the benchmark knows, or a flag it does not take. */
class BadArguments extends Data.TaggedError("BadArguments")<{ readonly message: string }> {}

type SectionError =
  | Effect.Effect.Error<typeof scoringSection>
  | Effect.Effect.Error<typeof lookupsSection>
  | Effect.Effect.Error<typeof startUpSection>
  | Effect.Effect.Error<typeof schedulesSection>
  | Effect.Effect.Error<typeof defaultRunSection>
  | Effect.Effect.Error<typeof scaleSection>
  | Effect.Effect.Error<ReturnType<typeof millionSection>>
  | Effect.Effect.Error<typeof throughputSection>
  | Effect.Effect.Error<typeof universeSection>

const sections: ReadonlyArray<Section<SectionError>> = [
  section("scoring", scoringRows, scoringSection),
  section("lookups", lookupsRows, lookupsSection),
  section("startup", startUpRows, startUpSection),
  section("schedules", schedulesRows, schedulesSection),
  section("default-run", defaultRunRows, defaultRunSection),
  section("scale", scaleRows, scaleSection),
  section("scale-1m", ["scale-1m"], millionSection(), { onRequest: true }),
  section("throughput", throughputRows, throughputSection),
  section("universe", universeRows, universeSection, { onRequest: true })
]

const args = process.argv.slice(2)
const json = args.includes("--json")
const names = args.filter((arg) => !arg.startsWith("-"))

/** The sections to run, each with the rows to report, in the benchmark's order. */
const selected = Effect.gen(function*() {
  const flags = args.filter((arg) => arg.startsWith("-") && arg !== "--json")
  const known = sections.flatMap((s) => [s.name, ...s.rows])
  const unknown = [...flags, ...names.filter((name) => !known.includes(name))]
  if (unknown.length > 0) {
    return yield* new BadArguments({
      message: `unknown ${unknown.join(", ")}; usage: npm run bench -- [section or row]... [--json]; sections: ${
        sections.map((s) => s.name).join(", ")
      }; rows: ${sections.flatMap((s) => s.rows).filter((row) => !sections.some((s) => s.name === row)).join(", ")}`
    })
  }
  return names.length === 0
    ? sections.filter((s) => !s.onRequest).map((s) => ({ section: s, rows: s.rows }))
    : sections.flatMap((s) => {
      const rows = names.includes(s.name) ? s.rows : s.rows.filter((row) => names.includes(row))
      return rows.length > 0 ? [{ section: s, rows }] : []
    })
})

/** Runs a section, prints the rows asked for as JSON lines when `--json` is on, and returns them. */
const runSection = (s: Section<SectionError>, rows: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const measured = yield* s.run
    const produced = measured.rows.map((r) => r.row)
    if (produced.length !== s.rows.length || s.rows.some((name) => !produced.includes(name))) {
      return yield* Effect.dieMessage(`section ${s.name} declares rows ${s.rows.join(", ")} but measured ${produced.join(", ")}`)
    }
    const reported = measured.rows.filter((r) => rows.includes(r.row))
    if (json) yield* Effect.forEach(reported, (r) => jsonLine(jsonOf(r)), { discard: true })
    return { rows: reported, findings: measured.findings, whole: rows.length === s.rows.length }
  })

const program = Effect.gen(function*() {
  const picked = yield* selected
  const startedAt = new Date()
  const machine = describeMachine()
  const loadAtStart = loadAverage()
  yield* Console.log(`${machine}, load average ${loadAtStart}`)
  const results = yield* Effect.forEach(picked, ({ rows, section }) => runSection(section, rows))
  const rows = results.flatMap((result) => result.rows)
  const findings = results.flatMap((result) => result.findings)
  const seconds = (Date.now() - startedAt.getTime()) / 1000
  const loadAtEnd = loadAverage()
  yield* Console.log(`\n== Every row: its figure, its target and whether it is met\n\n${markdownTable(rows)}`)
  yield* Console.log(`\nbench finished in ${seconds.toFixed(1)} s, load average ${loadAtEnd}`)
  if (names.length === 0) {
    yield* writeResults(rows, findings, {
      startedAt,
      machine,
      loadAtStart,
      loadAtEnd,
      seconds,
      sections: picked.map(({ section }) => section.name)
    })
    yield* Console.log("wrote bench/RESULTS.md")
  }
  // a section run on request, whole: its block in bench/RESULTS.md
  for (const [i, { section: s }] of picked.entries()) {
    const result = results[i]!
    if (names.length > 0 && s.onRequest && s.name !== "scale-1m" && result.whole) {
      yield* writeSectionResults(s.name, result.rows, result.findings, {
        startedAt,
        machine,
        loadAtStart,
        loadAtEnd,
        seconds,
        sections: [s.name]
      })
      yield* Console.log(`wrote the ${s.name} rows into bench/RESULTS.md`)
    }
  }
  if (findings.length > 0) return yield* new CorrectnessFailure({ message: findings.join("; ") })
})

NodeRuntime.runMain(json ? logToStderr(program) : program)
