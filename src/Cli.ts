/**
 * The command-line interface: flags become layers, the aggregator runs once,
 * the report goes to stdout and logs to stderr.
 *
 * Exit codes: 0 every company scored; 3 the report was produced but some
 * companies were skipped; 2 usage error; 4 a required resource is missing
 * (database, provider); 1 anything unexpected.
 *
 * @since 0.1.0
 */
import { Args, CliConfig, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Console, Data, Duration, Effect, Layer, Option, type Redacted } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Aggregator, allScored, schedules } from "./Aggregator.js"
import { ApiGate } from "./ApiGate.js"
import { Emissions } from "./Emissions.js"
import { Fundamentals } from "./Fundamentals.js"
import { Governance } from "./Governance.js"
import { IndexCache } from "./IndexCache.js"
import { parseDuration } from "./internal/DurationText.js"
import { Output } from "./Output.js"
import { serve } from "./ProviderServer.js"
import { formats, render } from "./Report.js"
import { assetPath } from "./Assets.js"
import { sampleUniverse, UNIVERSE_SEED } from "./SampleUniverse.js"
import { ScoreEngine } from "./ScoreEngine.js"
import { DEFAULT_SAMPLES } from "./ScoreModel.js"
import { createDatabase, parseCsv } from "./UniverseDb.js"
import { Universe } from "./Universe.js"
import { DatabaseWorkers, ScoringWorkers, type WorkerStartError } from "./WorkerPool.js"

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  partial: 3,
  unavailable: 4
} as const

/** The five companies of the original scenario. */
export const defaultCompanies: ReadonlyArray<string> = ["Apple", "Microsoft", "Meta", "Amazon", "Tesla"]

const version: string = (() => {
  const pkg: unknown = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"))
  return typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string"
    ? pkg.version
    : "0.0.0"
})()

const durationOption = (name: string, fallback: string, description: string) =>
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

const companies = Args.text({ name: "company" }).pipe(
  Args.withDescription("Companies by ticker or name, case-insensitive (default: Apple Microsoft Meta Amazon Tesla)"),
  Args.repeated,
  // an unknown flag would otherwise be taken for a company name
  Args.mapEffect((inputs) => {
    const flag = inputs.find((input) => input.startsWith("-"))
    return flag === undefined
      ? Effect.succeed(inputs)
      : Effect.fail(HelpDoc.p(`Unknown option: ${flag}`))
  })
)

const format = Options.choice("format", formats).pipe(
  Options.withDefault("table" as const),
  Options.withDescription("Report format: a table, or exactly one JSON document on stdout")
)

const schedule = Options.choice("schedule", schedules).pipe(
  Options.withFallbackConfig(Config.literal(...schedules)("ESG_SCHEDULE")),
  Options.withDefault("fifo" as const),
  Options.withDescription(
    "fifo: admit companies one by one, each deadline starting at its first granted call; eager: start all at once, deadlines from the start"
  )
)

/** Keeps whole numbers of at least `least`; the message names the flag. */
const atLeast = (name: string, least: number) =>
  Options.filterMap(
    (n: number) => (n >= least ? Option.some(n) : Option.none()),
    `--${name}: must be a whole number of at least ${least}`
  )

const apiConcurrency = Options.integer("api-concurrency").pipe(
  Options.withFallbackConfig(Config.integer("ESG_API_CONCURRENCY")),
  Options.withDefault(2),
  atLeast("api-concurrency", 1),
  Options.withDescription("External API calls allowed in flight at once")
)

const timeout = positiveDuration("timeout", "2s", "Deadline for a company's data to arrive; later companies are skipped")

const latencyEmissions = durationOption("latency-emissions", "1.2s", "Simulated emissions API latency")
const latencyGovernance = durationOption("latency-governance", "1.0s", "Simulated governance API latency")

const db = Options.file("db").pipe(
  Options.withFallbackConfig(Config.string("ESG_DB")),
  Options.optional,
  Options.withDescription("The universe database (default: the sample database built beside dist/main.js)")
)

const dbLatency = durationOption(
  "db-latency",
  "0.8s",
  "Blocking latency of one fundamentals lookup, emulated inside the worker (0 for the raw database speed)"
)

const wholeNumber = (name: string, least: number) => Options.integer(name).pipe(atLeast(name, least))

const workers = wholeNumber("workers", 1).pipe(
  Options.withDefault(ScoringWorkers.DEFAULT_SIZE),
  Options.withDescription("Scoring worker threads (CPU-bound; default: the number of cores)")
)

const dbWorkers = wholeNumber("db-workers", 1).pipe(
  Options.optional,
  Options.withDescription("Database worker threads (blocking, not CPU-bound; default: --api-concurrency + 1)")
)

const samples = wholeNumber("samples", 0).pipe(
  Options.withDefault(DEFAULT_SAMPLES),
  Options.withDescription("Monte Carlo samples per company (0 skips the simulation)")
)

const seed = wholeNumber("seed", 0).pipe(
  Options.withDefault(UNIVERSE_SEED),
  Options.withDescription("Monte Carlo seed: the same inputs and seed give identical scores")
)

const inProcess = Options.boolean("in-process").pipe(
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

const emissionsUrl = providerUrl("emissions", "ESG_EMISSIONS_URL")
const governanceUrl = providerUrl("governance", "ESG_GOVERNANCE_URL")

export interface Flags {
  readonly companies: ReadonlyArray<string>
  readonly format: "table" | "json"
  readonly schedule: "fifo" | "eager"
  readonly apiConcurrency: number
  readonly timeout: Duration.Duration
  readonly latencyEmissions: Duration.Duration
  readonly latencyGovernance: Duration.Duration
  readonly db: Option.Option<string>
  readonly dbLatency: Duration.Duration
  readonly workers: number
  readonly dbWorkers: Option.Option<number>
  readonly samples: number
  readonly seed: number
  readonly inProcess: boolean
  readonly emissionsUrl: Option.Option<string>
  readonly governanceUrl: Option.Option<string>
}

/** API keys, from the environment only (`ESG_EMISSIONS_API_KEY`, `ESG_GOVERNANCE_API_KEY`): secrets are no flags. */
export interface ProviderKeys {
  readonly emissions: Option.Option<Redacted.Redacted<string>>
  readonly governance: Option.Option<Redacted.Redacted<string>>
}

const providerKeys = Config.all({
  emissions: Config.option(Config.redacted("ESG_EMISSIONS_API_KEY")),
  governance: Config.option(Config.redacted("ESG_GOVERNANCE_API_KEY"))
})

/** The database a run reads: `--db`, else the sample database built beside the program. */
export const databasePath = (flags: Pick<Flags, "db">): string =>
  path.resolve(Option.getOrElse(flags.db, () => assetPath("universe.db")))

/**
 * The fundamentals and the scorer, with the universe the simulated providers
 * serve: worker threads over the SQLite database, or everything in-process.
 */
const sourcesLayer = (flags: Flags): Layer.Layer<Fundamentals | ScoreEngine | Universe, WorkerStartError> => {
  if (flags.inProcess) {
    return Layer.mergeAll(
      Fundamentals.layerSimulated({ latency: flags.dbLatency }),
      ScoreEngine.layerInline({ samples: flags.samples, seed: flags.seed }),
      Universe.layer(sampleUniverse)
    )
  }
  const dbPath = databasePath(flags)
  const pool = { dbPath, dbLatency: flags.dbLatency, samples: flags.samples, seed: flags.seed }
  return Layer.mergeAll(Fundamentals.layerWorker(dbPath), ScoreEngine.layerWorker, Universe.layerFromWorkers).pipe(
    Layer.provide(Layer.mergeAll(
      DatabaseWorkers.layer({
        ...pool,
        size: Option.getOrElse(flags.dbWorkers, () => DatabaseWorkers.sizeFor(flags.apiConcurrency))
      }),
      ScoringWorkers.layer({ ...pool, size: flags.workers })
    ))
  )
}

/** The emissions and governance providers: HTTP where a URL is configured, else simulated over the universe. */
const providersLayer = (flags: Flags, keys: ProviderKeys) =>
  Layer.unwrapEffect(Effect.map(Universe, (records) =>
    Layer.mergeAll(
      Option.match(flags.emissionsUrl, {
        onNone: () => Emissions.layerSimulated({ records, latency: flags.latencyEmissions }),
        onSome: (baseUrl) => Emissions.layerHttp({ baseUrl, apiKey: keys.emissions })
      }),
      Option.match(flags.governanceUrl, {
        onNone: () => Governance.layerSimulated({ records, latency: flags.latencyGovernance }),
        onSome: (baseUrl) => Governance.layerHttp({ baseUrl, apiKey: keys.governance })
      })
    ).pipe(Layer.provide(NodeHttpClient.layerUndici))))

/** The application's layers for a set of flags: the one place where they are wired. */
export const appLayer = (flags: Flags, keys: ProviderKeys = { emissions: Option.none(), governance: Option.none() }) =>
  Aggregator.Default.pipe(
    Layer.provideMerge(Layer.mergeAll(providersLayer(flags, keys), IndexCache.Default, ApiGate.layer(flags.apiConcurrency))),
    Layer.provideMerge(sourcesLayer(flags))
  )

/** Runs the report and returns the process exit code. */
export const report = (flags: Flags): Effect.Effect<number, never, Output> =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const output = yield* Output
    const inputs = flags.companies.length > 0 ? flags.companies : defaultCompanies
    const result = yield* aggregator.run(inputs, { schedule: flags.schedule, timeout: flags.timeout })
    yield* output.stdout(render(result, flags.format))
    return allScored(result) ? ExitCode.ok : ExitCode.partial
  }).pipe(
    Effect.provide(Layer.unwrapEffect(Effect.map(Effect.orDie(providerKeys), (keys) => appLayer(flags, keys)))),
    Effect.catchTag("WorkerStartError", (error) =>
      Effect.as(Effect.flatMap(Output, (output) => output.stderr(`esg-aggregator: ${error.message}`)), ExitCode.unavailable))
  )

const mainCommand = Command.make(
  "esg-aggregator",
  {
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
  },
  (flags) => report(flags)
).pipe(Command.withDescription("Builds an ESG report: fundamentals, emissions and governance per company, scored and cached"))

/** A CSV that could not be imported: the reason names the line and field. */
export class ImportError extends Data.TaggedError("ImportError")<{ readonly reason: string }> {}

const importCommand = Command.make(
  "import",
  {
    csv: Args.file({ name: "csv", exists: "yes" }).pipe(Args.withDescription("A CSV with the header of data/universe.csv")),
    out: Options.file("db").pipe(Options.withDescription("The database file to write (replaced atomically)")),
    synthetic: Options.boolean("synthetic").pipe(Options.withDescription("Label the data as synthetic"))
  },
  ({ csv, out, synthetic }) =>
    Effect.gen(function*() {
      const output = yield* Output
      const imported = yield* Effect.try({
        try: () => {
          const records = parseCsv(fs.readFileSync(csv, "utf8"), { source: csv })
          createDatabase(out, records, { synthetic: String(synthetic), source: path.basename(csv) })
          return records.length
        },
        catch: (cause) => new ImportError({ reason: cause instanceof Error ? cause.message : String(cause) })
      }).pipe(Effect.either)
      if (imported._tag === "Left") {
        yield* output.stderr(`esg-aggregator import: ${imported.left.reason}`)
        return ExitCode.usage
      }
      yield* output.stdout(`imported ${imported.right} companies into ${out}`)
      return ExitCode.ok
    })
).pipe(Command.withDescription("Loads a CSV of companies into a new universe database"))

const rate = (name: string, what: string) =>
  Options.float(`${name}-rate`).pipe(
    Options.withDefault(0),
    Options.filterMap((r) => (r >= 0 && r <= 1 ? Option.some(r) : Option.none()), `--${name}-rate: must be between 0 and 1`),
    Options.withDescription(`Share of requests answered with ${what}`)
  )

const serveCommand = Command.make(
  "serve-providers",
  {
    host: Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("Address to bind")),
    port: Options.integer("port").pipe(
      Options.withDefault(8787),
      Options.filterMap((p) => (p >= 0 && p <= 65535 ? Option.some(p) : Option.none()), "--port: must be 0..65535"),
      Options.withDescription("Port to listen on; 0 picks a free one (printed)")
    ),
    latencyEmissions,
    latencyGovernance,
    apiKey: Options.redacted("api-key").pipe(
      Options.withFallbackConfig(Config.redacted("ESG_PROVIDER_API_KEY")),
      Options.optional,
      Options.withDescription("Require this bearer token on data routes (env ESG_PROVIDER_API_KEY)")
    ),
    errorRate: rate("error", "503 Service Unavailable"),
    throttleRate: rate("throttle", "429 Too Many Requests with Retry-After"),
    malformedRate: rate("malformed", "a body that breaks the schema"),
    hangRate: rate("hang", "no answer at all"),
    seed: Options.integer("seed").pipe(Options.withDefault(1), Options.withDescription("Seed of the fault injection"))
  },
  (options) =>
    Effect.gen(function*() {
      const output = yield* Output
      const total = options.errorRate + options.throttleRate + options.malformedRate + options.hangRate
      if (total > 1) {
        yield* output.stderr(`esg-aggregator serve-providers: the fault rates add up to ${total}, more than 1`)
        return ExitCode.usage
      }
      return yield* serve(options, (url) => output.stdout(`listening on ${url}`)).pipe(
        Effect.catchAll((error) =>
          Effect.as(output.stderr(`esg-aggregator serve-providers: cannot listen: ${error.message}`), ExitCode.unavailable)
        )
      )
    })
).pipe(Command.withDescription("Serves the emissions and governance APIs locally, with optional fault injection"))

const command = mainCommand.pipe(Command.withSubcommands([importCommand, serveCommand]))

const cli = Command.run(command, { name: "esg-aggregator", version })

// eslint-disable-next-line no-control-regex -- ANSI colour codes are control sequences by definition
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "")

/**
 * Parses `argv` (with the node and script paths first, as `process.argv`)
 * and runs the command. Help and version text go to stdout through
 * `Output`. @effect/cli prints its own usage errors; they are
 * held back and folded into one line on stderr, so a usage error is one
 * clear line and never a stack trace.
 */
export const run = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const output = yield* Output
    const base = yield* Effect.console
    const held: Array<string> = []
    const holding: Console.Console = {
      ...base,
      // help and version text
      log: (...args: ReadonlyArray<unknown>) => output.stdout(args.map(String).join(" ")),
      error: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void held.push(args.map(String).join(" ")))
    }
    const exit = yield* cli(argv).pipe(
      Effect.map((code: number | void) => (typeof code === "number" ? code : ExitCode.ok)),
      Effect.withConsole(holding),
      Effect.either
    )
    if (exit._tag === "Right") return exit.right
    if (ValidationError.isValidationError(exit.left)) {
      const text = stripAnsi(held.length > 0 ? held.join("\n") : HelpDoc.toAnsiText(exit.left.error))
      const message = text.split("\n").map((line) => line.trim()).filter((line) => line.length > 0).join(" ")
      yield* output.stderr(`esg-aggregator: ${message} (see --help)`)
      return ExitCode.usage
    }
    return yield* Effect.fail(exit.left)
  }).pipe(Effect.provide(CliConfig.layer({ showBuiltIns: true })))
