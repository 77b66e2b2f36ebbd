/**
 * Real-time figures (not tests), all from one run so that they can be read
 * side by side as ratios on a noisy machine:
 *
 * 1. scoring 20 companies on 2 workers, 1 worker and the main thread;
 * 2. the main event loop's worst delay meanwhile;
 * 3. blocking fundamentals lookups by database pool size;
 * 4. start-up of worker pools and of the CLI;
 * 5. the seed scenario under both schedules, beside the virtual-time optimum;
 * 6. the pipeline at scale (100,000 companies, cold and warm) beside a
 *    plain-Promise peer;
 * 7. a million companies streamed (only when asked for by name).
 *
 * `npm run bench -- [name...] [--json]`: names pick sections (`scoring`,
 * `lookups`, `startup`, `schedules`, `scale`, `scale-1m`) or rows
 * (`scale-cold`, `scale-warm`); none runs every section but `scale-1m`.
 * With `--json`, stdout carries only one JSON line per measured row (see
 * `Output.ts`) and the tables go to stderr.
 *
 * Needs `npm run build` first (dist/worker.js, dist/universe.db, dist/main.js).
 * Every pool lives in a scope that closes before the next section, so the
 * process exits on its own.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Array as Arr, Console, Data, Effect, Option } from "effect"
import * as os from "node:os"
import { lookupsSection } from "./Lookups.js"
import { loadAverage } from "./Machine.js"
import { logToStderr } from "./Output.js"
import { millionSection, scaleRows, scaleSection } from "./Scale.js"
import { schedulesSection } from "./Schedules.js"
import { scoringSection } from "./Scoring.js"
import { startUpSection } from "./StartUp.js"

/** The three ways of scoring disagreed: a correctness failure, not a slow machine. */
class ScoresDiffer extends Data.TaggedError("ScoresDiffer")<{ readonly message: string }> {}

/** The command line named no section or row the benchmark knows, or a flag it does not take. */
class BadArguments extends Data.TaggedError("BadArguments")<{ readonly message: string }> {}

type SectionError =
  | Effect.Effect.Error<typeof scoringSection>
  | Effect.Effect.Error<typeof lookupsSection>
  | Effect.Effect.Error<typeof startUpSection>
  | Effect.Effect.Error<typeof schedulesSection>
  | Effect.Effect.Error<ReturnType<typeof scaleSection>>
  | Effect.Effect.Error<ReturnType<typeof millionSection>>

interface Section {
  readonly name: string
  /** Row names that also pick this section, to report only those rows. */
  readonly rows: ReadonlyArray<string>
  /** Runs only when asked for by name. */
  readonly onRequest: boolean
  /** Runs the section for `rows`; a correctness failure is returned, to be reported once every section has run. */
  readonly run: (rows: ReadonlyArray<string>) => Effect.Effect<Option.Option<ScoresDiffer>, SectionError>
}

const section = (
  name: string,
  run: Section["run"],
  options: { readonly rows?: ReadonlyArray<string>; readonly onRequest?: boolean } = {}
): Section => ({ name, run, rows: options.rows ?? [], onRequest: options.onRequest ?? false })

const noFinding = <E>(self: Effect.Effect<void, E>) => Effect.as(self, Option.none<ScoresDiffer>())

const sections = (json: boolean): ReadonlyArray<Section> => [
  section("scoring", () =>
    Effect.map(scoringSection, ({ identical }) =>
      identical
        ? Option.none()
        : Option.some(new ScoresDiffer({ message: "workers and main thread produced different scores (see section 1)" })))),
  section("lookups", () => noFinding(lookupsSection)),
  section("startup", () => noFinding(startUpSection)),
  section("schedules", () => noFinding(schedulesSection)),
  section("scale", (rows) => noFinding(scaleSection({ rows: scaleRows.filter((row) => rows.includes(row)), json })), {
    rows: scaleRows
  }),
  section("scale-1m", () => noFinding(millionSection({ json })), { onRequest: true })
]

const args = process.argv.slice(2)
const json = args.includes("--json")

/** The sections to run, each with the rows to report, in the benchmark's order. */
const selected = Effect.gen(function*() {
  const all = sections(json)
  const flags = args.filter((arg) => arg.startsWith("-") && arg !== "--json")
  const names = args.filter((arg) => !arg.startsWith("-"))
  const known = all.flatMap((s) => [s.name, ...s.rows])
  const unknown = [...flags, ...names.filter((name) => !known.includes(name))]
  if (unknown.length > 0) {
    return yield* new BadArguments({
      message: `unknown ${unknown.join(", ")}; usage: npm run bench -- [${known.join("|")}]... [--json]`
    })
  }
  return names.length === 0
    ? all.filter((s) => !s.onRequest).map((s) => ({ section: s, rows: s.rows }))
    : all.flatMap((s) => {
      const rows = names.includes(s.name) ? s.rows : s.rows.filter((row) => names.includes(row))
      return names.includes(s.name) || rows.length > 0 ? [{ section: s, rows }] : []
    })
})

const program = Effect.gen(function*() {
  const picked = yield* selected
  yield* Console.log(
    `node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "unknown cpu"}), load average ${loadAverage()}`
  )
  const started = performance.now()
  const findings = yield* Effect.forEach(picked, ({ rows, section }) => section.run(rows))
  yield* Console.log(
    `\nbench finished in ${((performance.now() - started) / 1000).toFixed(1)} s, load average ${loadAverage()}`
  )
  const [failure] = Arr.getSomes(findings)
  if (failure !== undefined) return yield* failure
})

NodeRuntime.runMain(json ? logToStderr(program) : program)
