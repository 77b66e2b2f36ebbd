/**
 * The command line's flags: each option once, with its description, its
 * default and its environment variable. The flag types the commands receive
 * are derived from these definitions, never written by hand.
 *
 * @since 0.2.0
 */
import { Args, type Command, HelpDoc, Options } from "@effect/cli"
import { Config, Duration, Effect, Option } from "effect"
import { schedules } from "../Admission.js"
import { parseDuration } from "../internal/DurationText.js"
import { formats } from "../Report.js"
import { Scenario } from "../Scenario.js"
import { DEFAULT_SAMPLES, DEFAULT_SEED } from "../ScoreModel.js"
import { ScoringWorkers } from "../worker/WorkerPool.js"

const seconds = (duration: Duration.Duration) => `${Duration.toMillis(duration) / 1000}s`

export const durationOption = (name: string, fallback: string, description: string) =>
  Options.text(name).pipe(
    Options.withDefault(fallback),
    Options.withDescription(description),
    Options.filterMap(parseDuration, `--${name}: expected a duration such as 2s, 1.5s or 800ms`)
  )

const positiveDuration = (name: string, fallback: string, description: string) =>
  durationOption(name, fallback, description).pipe(
    Options.filterMap(
      (d) => (Duration.toMillis(d) > 0 ? Option.some(d) : Option.none()),
      `--${name}: must be longer than 0`
    )
  )

export const companies = Args.text({ name: "company" }).pipe(
  Args.withDescription(`Companies by ticker or name, case-insensitive (default: ${Scenario.companies.join(" ")})`),
  Args.repeated,
  // an unknown flag would otherwise be taken for a company name
  Args.mapEffect((inputs) => {
    const flag = inputs.find((input) => input.startsWith("-"))
    return flag === undefined
      ? Effect.succeed(inputs)
      : Effect.fail(HelpDoc.p(`Unknown option: ${flag}`))
  })
)

export const format = Options.choice("format", formats).pipe(
  Options.withDefault("table" as const),
  Options.withDescription("Report format: a table, or exactly one JSON document on stdout")
)

export const schedule = Options.choice("schedule", schedules).pipe(
  Options.withFallbackConfig(Config.literal(...schedules)("ESG_SCHEDULE")),
  Options.withDefault("fifo" as const),
  Options.withDescription(
    "fifo: admit companies one by one, each deadline starting at its first request; eager: start all at once, deadlines from the start"
  )
)

/** Keeps whole numbers of at least `least`; the message names the flag. */
const atLeast = (name: string, least: number) =>
  Options.filterMap(
    (n: number) => (n >= least ? Option.some(n) : Option.none()),
    `--${name}: must be a whole number of at least ${least}`
  )

export const wholeNumber = (name: string, least: number) => Options.integer(name).pipe(atLeast(name, least))

export const apiConcurrency = Options.integer("api-concurrency").pipe(
  Options.withFallbackConfig(Config.integer("ESG_API_CONCURRENCY")),
  Options.withDefault(Scenario.permits),
  atLeast("api-concurrency", 1),
  Options.withDescription("External API calls allowed in flight at once")
)

export const timeout = positiveDuration(
  "timeout",
  seconds(Scenario.timeout),
  "Deadline for a company's data, from its first request; later companies are skipped"
)

export const latencyEmissions = durationOption("latency-emissions", seconds(Scenario.latency.emissions), "Simulated emissions API latency")
export const latencyGovernance = durationOption(
  "latency-governance",
  seconds(Scenario.latency.governance),
  "Simulated governance API latency"
)

export const db = Options.file("db").pipe(
  Options.withFallbackConfig(Config.string("ESG_DB")),
  Options.optional,
  Options.withDescription("The universe database (default: the sample database built beside dist/main.js)")
)

export const dbLatency = durationOption(
  "db-latency",
  seconds(Scenario.latency.fundamentals),
  "Blocking latency of one fundamentals lookup, emulated inside the worker (0 for the raw database speed)"
)

export const workers = wholeNumber("workers", 1).pipe(
  Options.withDefault(ScoringWorkers.DEFAULT_SIZE),
  Options.withDescription("Scoring worker threads (CPU-bound; default: the number of cores)")
)

export const dbWorkers = wholeNumber("db-workers", 1).pipe(
  Options.optional,
  Options.withDescription("Database worker threads (blocking, not CPU-bound; default: --api-concurrency + 1)")
)

export const samples = wholeNumber("samples", 0).pipe(
  Options.withDefault(DEFAULT_SAMPLES),
  Options.withDescription("Monte Carlo samples per company (0 skips the simulation)")
)

export const seed = wholeNumber("seed", 0).pipe(
  Options.withDefault(DEFAULT_SEED),
  Options.withDescription("Monte Carlo seed: the same inputs and seed give identical scores")
)

export const inProcess = Options.boolean("in-process").pipe(
  Options.withDescription(
    "Run without worker threads: the sample universe in memory with --db-latency as a sleep, scoring on the main thread"
  )
)

const providerUrl = (name: string, env: string) =>
  Options.text(`${name}-url`).pipe(
    Options.withFallbackConfig(Config.string(env)),
    Options.filterMap(
      (text) => (/^https?:\/\/[^\s/]+/.test(text) ? Option.some(text) : Option.none()),
      `--${name}-url: expected an http:// or https:// URL`
    ),
    Options.optional,
    Options.withDescription(`Base URL of the ${name} API (env ${env}); without it the in-process simulation serves the data`)
  )

export const emissionsUrl = providerUrl("emissions", "ESG_EMISSIONS_URL")
export const governanceUrl = providerUrl("governance", "ESG_GOVERNANCE_URL")

/** The report command's flags. */
export const reportFlags = {
  companies,
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
  emissionsUrl,
  governanceUrl
}

/** The report command's flags, parsed. */
export type ReportFlags = Command.Command.ParseConfig<typeof reportFlags>
