/**
 * The command line's flags: each option once, with what it does, its
 * default, its bound and its environment variable. The same definition
 * gives the parser and the help text (`Help.ts`); the flag types the
 * commands receive are derived from it, never written by hand.
 *
 * Every number a user can type has an upper bound, so that no flag value
 * can make the process eat the machine; a value out of bounds is a usage
 * error naming the flag and the bound.
 *
 * @since 0.2.0
 */
import { Args, type Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { Config, Duration, Effect, Option } from "effect"
import * as os from "node:os"
import { schedules } from "../Admission.js"
import { parseDuration } from "../internal/DurationText.js"
import { formats } from "../Report.js"
import { Scenario } from "../Scenario.js"
import { DEFAULT_SAMPLES, DEFAULT_SEED } from "../ScoreModel.js"
import { isPostgresUrl, unreadableUrl } from "../team/StoreUrl.js"

/** One option's help: how it is written, what it does, its default and its environment variable. */
export interface FlagDoc {
  readonly usage: string
  readonly description: string
  readonly fallback?: string
  readonly env?: string
}

/** An option and its help, defined together. */
export interface Flag<A> {
  readonly options: Options.Options<A>
  readonly doc: FlagDoc
}

export const flag = <A>(doc: FlagDoc, options: Options.Options<A>): Flag<A> => ({
  doc,
  options: Options.withDescription(options, doc.description)
})

/** The options of a set of flags, as `Command.make` takes them. */
export const optionsOf = <F extends Record<string, Flag<unknown>>>(flags: F): { readonly [K in keyof F]: F[K]["options"] } =>
  Object.fromEntries(Object.entries(flags).map(([key, f]) => [key, f.options])) as never

/** The help of a set of flags, in their order. */
export const docsOf = (flags: Record<string, Flag<unknown>>): ReadonlyArray<FlagDoc> => Object.values(flags).map((f) => f.doc)

/** The upper bounds of what a user can ask for. */
export const Bounds = {
  /** The providers' quota is 2; more than 64 calls in flight would only queue inside this process. */
  apiConcurrency: 64,
  /** Scoring threads: 4 per core at the most (more than the cores only with a warning). */
  workers: Math.max(1, os.availableParallelism()) * 4,
  /** Database threads: blocked threads use no CPU, but each holds a thread's memory. */
  dbWorkers: 16,
  /** About 2 s of CPU per company. */
  samples: 10_000_000,
  seed: 2 ** 32 - 1,
  /** Deadlines and latencies. */
  durationMs: 3_600_000,
  /** How old a cached score may be: a year. */
  maxAgeMs: 365 * 86_400_000
} as const

/** The cores scoring threads are capped at unless `--workers` insists. */
export const cores = Math.max(1, os.availableParallelism())

const invalid = (message: string) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message)))

/** A whole number from `least` to `most`; the message names the flag, the value and the bounds. */
const wholeNumber = (name: string, least: number, most: number) => (text: string) => {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN
  return Number.isSafeInteger(n) && n >= least && n <= most
    ? Effect.succeed(n)
    : invalid(`--${name}: expected a whole number from ${least} to ${most}, got '${text}'`)
}

const integerOption = (name: string, least: number, most: number) =>
  Options.text(name).pipe(Options.mapEffect(wholeNumber(name, least, most)))

/** A duration, as typed (`2s`, `1.5s`, `800ms`); `positive` refuses 0. */
const durationOf = (name: string, positive: boolean, most: { readonly ms: number; readonly text: string } = { ms: Bounds.durationMs, text: "1h" }) => (text: string) =>
  Option.match(parseDuration(text), {
    onNone: () => invalid(`--${name}: expected a duration such as 2s, 1.5s, 800ms, 24h, 7d or 2w, got '${text}'`),
    onSome: (duration) => {
      const millis = Duration.toMillis(duration)
      if (positive && millis <= 0) return invalid(`--${name}: must be longer than 0`)
      if (millis > most.ms) return invalid(`--${name}: at most ${most.text}, got '${text}'`)
      return Effect.succeed(duration)
    }
  })

const durationText = (duration: Duration.Duration) => `${Duration.toMillis(duration) / 1000}s`

export const durationFlag = (name: string, fallback: Duration.Duration, description: string, positive = false) =>
  flag(
    { usage: `--${name} D`, description, fallback: durationText(fallback) },
    Options.text(name).pipe(Options.withDefault(durationText(fallback)), Options.mapEffect(durationOf(name, positive)))
  )

export const companies = Args.text({ name: "company" }).pipe(
  Args.withDescription(`Companies by ticker or name, case-insensitive; - reads them from stdin (default: ${Scenario.companies.join(" ")})`),
  Args.repeated,
  // an unknown flag would otherwise be taken for a company name
  Args.mapEffect((inputs) => {
    const unknown = inputs.find((input) => input.startsWith("-") && input !== "-")
    return unknown === undefined ? Effect.succeed(inputs) : Effect.fail(HelpDoc.p(`Unknown option: ${unknown}`))
  })
)

const format = flag(
  {
    usage: `--format ${formats.join("|")}`,
    description:
      "a table for people, one JSON document, CSV for spreadsheets, NDJSON (a line per company as it completes), or one self-contained HTML page",
    fallback: "table"
  },
  // any case: `--format CSV` is what a user means by csv
  Options.text("format").pipe(
    Options.withDefault("table"),
    Options.mapEffect((text) => {
      const format = formats.find((name) => name === text.trim().toLowerCase())
      return format === undefined
        ? invalid(`--format: expected one of ${formats.join(", ")}, got '${text}'`)
        : Effect.succeed(format)
    })
  )
)

const schedule = flag(
  {
    usage: `--schedule ${schedules.join("|")}`,
    description:
      "fifo admits companies one by one, each deadline starting at its first request; eager starts all at once, deadlines from the start",
    fallback: "fifo",
    env: "ESG_SCHEDULE"
  },
  Options.choice("schedule", schedules).pipe(
    // eslint-disable-next-line no-restricted-syntax -- the schedules: two names, fixed
    Options.withFallbackConfig(Config.literal(...schedules)("ESG_SCHEDULE")),
    Options.withDefault("fifo" as const)
  )
)

const apiConcurrency = flag(
  {
    usage: "--api-concurrency N",
    description: `external API calls in flight at once, 1 to ${Bounds.apiConcurrency}`,
    fallback: String(Scenario.permits),
    env: "ESG_API_CONCURRENCY"
  },
  Options.text("api-concurrency").pipe(
    Options.withFallbackConfig(Config.string("ESG_API_CONCURRENCY")),
    Options.withDefault(String(Scenario.permits)),
    Options.mapEffect(wholeNumber("api-concurrency", 1, Bounds.apiConcurrency))
  )
)

const timeout = durationFlag(
  "timeout",
  Scenario.timeout,
  "the data deadline of a company, from its first request; a company that misses it is skipped",
  true
)

export const latencyEmissions = durationFlag("latency-emissions", Scenario.latency.emissions, "simulated emissions API latency")
export const latencyGovernance = durationFlag("latency-governance", Scenario.latency.governance, "simulated governance API latency")

const db = flag(
  { usage: "--db PATH", description: "the universe database", fallback: "the sample database beside dist/main.js", env: "ESG_DB" },
  Options.file("db").pipe(Options.withFallbackConfig(Config.string("ESG_DB")), Options.optional)
)

const dbLatency = durationFlag(
  "db-latency",
  Scenario.latency.fundamentals,
  "blocking latency of one fundamentals lookup, emulated inside the worker (0 for the raw database speed)"
)

const workers = flag(
  {
    usage: "--workers N",
    description:
      `a scoring pool of its own, with this many threads: 1 to ${Bounds.workers}, never more than the companies; more than the ${cores} cores only with a warning`,
    fallback: "one pool for lookups and scores, sized to the work"
  },
  integerOption("workers", 1, Bounds.workers).pipe(Options.optional)
)

const dbWorkers = flag(
  {
    usage: "--db-workers N",
    description: `a database pool of its own, with this many threads: 1 to ${Bounds.dbWorkers}, never more than the companies`,
    fallback: "one pool for lookups and scores, sized to the work"
  },
  integerOption("db-workers", 1, Bounds.dbWorkers).pipe(Options.optional)
)

const samples = flag(
  {
    usage: "--samples N",
    description: `Monte Carlo samples per company, 0 to ${Bounds.samples} (0 skips the simulation)`,
    fallback: String(DEFAULT_SAMPLES)
  },
  Options.text("samples").pipe(
    Options.withDefault(String(DEFAULT_SAMPLES)),
    Options.mapEffect(wholeNumber("samples", 0, Bounds.samples))
  )
)

const seed = flag(
  { usage: "--seed N", description: "Monte Carlo seed: the same inputs and seed give identical scores", fallback: String(DEFAULT_SEED) },
  Options.text("seed").pipe(Options.withDefault(String(DEFAULT_SEED)), Options.mapEffect(wholeNumber("seed", 0, Bounds.seed)))
)

const inProcess = flag(
  {
    usage: "--in-process",
    description:
      "no worker threads: the sample universe in memory, --db-latency as a sleep, scoring on the main thread",
    fallback: "off"
  },
  Options.boolean("in-process")
)

const providerUrl = (name: string, env: string) =>
  flag(
    {
      usage: `--${name}-url URL`,
      description: `base URL of the ${name} API (its key: env ${env.replace("_URL", "_API_KEY")})`,
      fallback: "the in-process simulation",
      env
    },
    Options.text(`${name}-url`).pipe(
      Options.withFallbackConfig(Config.string(env)),
      Options.mapEffect((text) =>
        /^https?:\/\/[^\s/]+/.test(text)
          ? Effect.succeed(text)
          : invalid(`--${name}-url: expected an http:// or https:// URL, got '${text}'`)
      ),
      Options.optional
    )
  )

const output = flag(
  { usage: "--output FILE", description: "write the report to FILE (replaced atomically once whole)", fallback: "stdout" },
  Options.text("output").pipe(Options.optional)
)

const input = flag(
  {
    usage: "--input FILE",
    description:
      "companies from a file: one per line (blank lines and # comments ignored), or a CSV with a ticker or name column; - reads stdin"
  },
  Options.text("input").pipe(Options.optional)
)

const all = flag(
  {
    usage: "--all",
    description: "every company of the universe (--db's), streamed; with a cache or store, a rerun fetches only those still missing",
    fallback: "off"
  },
  Options.boolean("all")
)

const cache = flag(
  {
    usage: "--cache PATH",
    description:
      "keep scores across runs in this SQLite file and reuse the fresh ones; the word default names $XDG_CACHE_HOME/esg-aggregator/scores.db",
    fallback: "none: every run computes its scores",
    env: "ESG_CACHE"
  },
  // ESG_CACHE is read with the application (`cli/App.ts`): a team's store replaces it, a --cache flag conflicts with one
  Options.text("cache").pipe(Options.optional)
)

const noCache = flag(
  { usage: "--no-cache", description: "neither read nor write a persistent cache, whatever ESG_CACHE says", fallback: "off" },
  Options.boolean("no-cache")
)

const store = flag(
  {
    usage: "--store URL",
    description:
      "a team's store: postgres://USER@HOST:PORT/DB keeps the scores there instead of a file, and holds the API permits there for every process using it",
    fallback: "none",
    env: "ESG_STORE_URL"
  },
  Options.text("store").pipe(
    Options.withFallbackConfig(Config.string("ESG_STORE_URL")),
    Options.mapEffect((text) =>
      !isPostgresUrl(text)
        ? invalid("--store: expected a postgres:// or postgresql:// URL")
        : unreadableUrl(text) !== undefined
        ? invalid(`--store: the URL cannot be read: ${unreadableUrl(text)}`)
        : Effect.succeed(text)
    ),
    Options.optional
  )
)

const maxAge = flag(
  { usage: "--max-age D", description: "reuse a cached score computed at most this long ago (24h, 7d, 2w), up to 365d", fallback: "24h" },
  Options.text("max-age").pipe(
    Options.withDefault("24h"),
    Options.mapEffect(durationOf("max-age", false, { ms: Bounds.maxAgeMs, text: "365d" }))
  )
)

const refresh = flag(
  { usage: "--refresh", description: "ignore cached scores: every company through the providers (the new scores are cached)", fallback: "off" },
  Options.boolean("refresh")
)

const secondPass = flag(
  {
    usage: "--second-pass",
    description: "after the run, try once more each company skipped for a transient reason (deadline, connection, 5xx, 429), with a fresh deadline",
    fallback: "off"
  },
  Options.boolean("second-pass")
)

const timeline = flag(
  { usage: "--timeline", description: "after the run, chart the API calls on each permit lane over time (on stderr)", fallback: "off" },
  Options.boolean("timeline")
)

const portfolioCsv = flag(
  { usage: "--portfolio-csv FILE", description: "also write the portfolio's figures to FILE, as CSV (one figure a row)", fallback: "none" },
  Options.text("portfolio-csv").pipe(Options.optional)
)

const minCoverage = flag(
  {
    usage: "--min-coverage PCT",
    description: "the share of a portfolio's weight its scored holdings must hold for its score to be given, 0 to 100",
    fallback: "65"
  },
  Options.text("min-coverage").pipe(Options.withDefault("65"), Options.mapEffect(wholeNumber("min-coverage", 0, 100)))
)

/** The report command's flags. */
export const reportFlagSet = {
  input,
  all,
  output,
  format,
  schedule,
  apiConcurrency,
  timeout,
  latencyEmissions,
  latencyGovernance,
  db,
  dbLatency,
  workers,
  dbWorkers,
  samples,
  seed,
  inProcess,
  cache,
  noCache,
  store,
  maxAge,
  refresh,
  secondPass,
  minCoverage,
  portfolioCsv,
  timeline,
  emissionsUrl: providerUrl("emissions", "ESG_EMISSIONS_URL"),
  governanceUrl: providerUrl("governance", "ESG_GOVERNANCE_URL")
}

export const reportFlags = { companies, ...optionsOf(reportFlagSet) }

/** The report command's flags, parsed. */
export type ReportFlags = Command.Command.ParseConfig<typeof reportFlags>
