/**
 * The main command: the companies are read (`Inputs`), the flags become the
 * application (`cli/App.ts`), the aggregator runs once, and the report goes
 * to stdout or, written atomically, to `--output`. NDJSON is written as
 * companies complete; on a terminal, a progress line shows on stderr.
 *
 * @since 0.2.0
 */
import { Command } from "@effect/cli"
import { Chunk, Clock, Duration, Effect, Either, Fiber, Option, Stream } from "effect"
import { Aggregator } from "../Aggregator.js"
import type { Reported } from "../Intake.js"
import { allScored, type RunReport } from "../Summary.js"
import type { GateUnavailable } from "../ApiGate.js"
import type { ProviderRefused } from "../Domain.js"
import type { PortfolioView } from "../Portfolio.js"
import { ndjsonCompany, ndjsonSummary, render, renderJsonChunks, renderPortfolioCsv, toJson } from "../Report.js"
import type { ScoreStoreUnavailable } from "../ScoreStore.js"
import { render as renderTimeline, Timeline, type TimelineService, widthFor } from "../Timeline.js"
import { sampleUniverse } from "../universe/SampleUniverse.js"
import { Universe, type UniverseUnavailable } from "../universe/Universe.js"
import type { WorkerStartError } from "../worker/WorkerPool.js"
import { appLayer, databasePath, poolFailure } from "./App.js"
import { ExitCode } from "./ExitCode.js"
import { type ReportFlags, reportFlags } from "./Flags.js"
import { type Amounts, InputError, readInputs } from "./Inputs.js"
import { portfolioViewOf } from "./PortfolioView.js"
import { Output } from "./Output.js"
import { makeProgress } from "./Progress.js"
import { openOutputFile, type OutputFileError, type ReportTarget } from "./OutputFile.js"
import { exitCodeOf, Shutdown, untilShutdown } from "./Shutdown.js"

const unavailable = (message: string) =>
  Effect.as(Effect.flatMap(Output, (output) => output.stderr(`esg-aggregator: ${message}`)), ExitCode.unavailable)

const usage = (message: string) =>
  Effect.as(Effect.flatMap(Output, (output) => output.stderr(`esg-aggregator: ${message} (see --help)`)), ExitCode.usage)

/** How long a stopped run has to print its partial report before it is cut short. */
const STOP_GRACE = "700 millis"

/** Where the report goes: stdout, or `--output` (replaced once the report is whole). */
const reportTarget = (flags: ReportFlags) =>
  Option.match(flags.output, {
    onNone: () =>
      Effect.map(Output, (output): ReportTarget => ({ write: (text) => output.stdout(text), color: output.stdoutColor })),
    onSome: openOutputFile
  })

/**
 * The HTML page of a run: its module (and Vega's) loaded only now, so that no other format pays for them. A chart
 * Vega could not draw is a defect: it ends the run as one.
 */
const htmlPage = (result: RunReport, portfolio: PortfolioView, startedAt: number, timeline: Option.Option<TimelineService>) =>
  Effect.gen(function*() {
    const { renderHtml } = yield* Effect.promise(() => import("../HtmlReport.js"))
    const calls = Option.isSome(timeline) ? { lanes: timeline.value.lanes, calls: yield* timeline.value.calls } : undefined
    return yield* Effect.orDie(renderHtml(toJson(result, portfolio), { generatedAt: startedAt, calls }))
  })

/** Runs the report on `inputs` and returns the process exit code. */
const reportOn = (flags: ReportFlags, inputs: ReadonlyArray<string>, amounts: Amounts | undefined) =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const shutdown = yield* Shutdown
    const output = yield* Output
    const target = yield* reportTarget(flags)
    const streaming = flags.format === "ndjson"
    // the schedule's pace: a company's two external calls over the permits
    const perCompanyMs = (Duration.toMillis(flags.latencyEmissions) + Duration.toMillis(flags.latencyGovernance)) / flags.apiConcurrency
    const progress = yield* makeProgress(inputs.length, perCompanyMs)
    const onOutcome = (reported: Reported) =>
      Effect.zipRight(progress.onOutcome(reported), streaming ? target.write(ndjsonCompany(reported.outcome)) : Effect.void)
    const showing = yield* Effect.fork(progress.show)
    const startedAt = yield* Clock.currentTimeMillis
    // a stop request ends the run early: what finished is still reported; a pool that cannot start ends it at once
    const result = yield* Effect.raceFirst(
      aggregator.run(inputs, { until: shutdown.requested, onOutcome, onRequested: progress.onRequested }),
      poolFailure
    ).pipe(Effect.ensuring(Fiber.interrupt(showing)))
    const portfolio = yield* portfolioViewOf(inputs, amounts, result, {
      startedAt,
      samples: flags.samples,
      seed: flags.seed,
      minCoverage: flags.minCoverage / 100
    })
    const timeline = yield* Effect.serviceOption(Timeline)
    yield* streaming
      ? target.write(ndjsonSummary(result.summary, portfolio))
      : flags.format === "json"
      // written in pieces: a report of 200,000 companies is never one string
      ? Effect.gen(function*() {
        // one piece at a time (`Effect.forEach` would collect every piece first)
        for (const chunk of renderJsonChunks(result, portfolio)) yield* target.write(chunk)
      })
      : flags.format === "html"
      ? Effect.flatMap(htmlPage(result, portfolio, startedAt, timeline), target.write)
      : target.write(render(result, flags.format, { color: target.color, portfolio }))
    if (Option.isSome(flags.portfolioCsv)) {
      const file = yield* openOutputFile(flags.portfolioCsv.value)
      yield* file.write(renderPortfolioCsv(portfolio.figures))
    }
    if (flags.timeline) {
      if (Option.isSome(timeline)) {
        yield* output.stderr(renderTimeline(timeline.value.lanes, yield* timeline.value.calls, widthFor(output.stderrColumns)))
      }
    }
    if (result.summary.gateLost !== undefined) {
      yield* output.stderr(
        `esg-aggregator: ${result.summary.gateLost}: partial report, ${result.outcomes.length} of ${result.summary.requested} companies finished`
      )
      return ExitCode.unavailable
    }
    if (result.summary.partial) {
      const signal = yield* shutdown.requested
      yield* output.stderr(
        `esg-aggregator: stopped by ${signal}: partial report, ${result.outcomes.length} of ${result.summary.requested} companies finished`
      )
      return exitCodeOf(signal)
    }
    return allScored(result) ? ExitCode.ok : ExitCode.partial
  }).pipe(
    Effect.scoped,
    Effect.provide(appLayer(flags, inputs.length)),
    // a pool that cannot start, a provider that refuses the key, a cache or a file that cannot be opened: one line
    Effect.catchTags({
      WorkerStartError: (error: WorkerStartError) => unavailable(error.message),
      UniverseUnavailable: (error: UniverseUnavailable) => unavailable(error.message),
      ScoreStoreUnavailable: (error: ScoreStoreUnavailable) => unavailable(`${error.message} (--no-cache runs without it)`),
      ProviderRefused: (error: ProviderRefused) => unavailable(error.message),
      GateUnavailable: (error: GateUnavailable) => unavailable(error.message),
      OutputFileError: (error: OutputFileError) => unavailable(error.message)
    }),
    // a stop while the pools are still starting, or a run that does not end soon after it: cut short
    (report) => untilShutdown(report, STOP_GRACE)
  )

/** Reads the companies, then runs the report; returns the process exit code. */
export const report = (flags: ReportFlags): Effect.Effect<number, never, Output> =>
  Option.isSome(flags.cache) && Option.isSome(flags.store)
    ? usage("--cache and --store (ESG_STORE_URL) both name where scores are kept: give one")
    : reportWith(flags)

/**
 * Every ticker of the run's universe (`--all`): the database's, read a page
 * at a time, or the sample's in-process. A ticker is a few bytes: a
 * million of them are a few megabytes.
 */
const universeTickers = (flags: ReportFlags): Effect.Effect<ReadonlyArray<string>, UniverseUnavailable> =>
  Effect.map(
    Stream.runCollect(Stream.unwrapScoped(Effect.map(Universe, (universe) => universe.tickers))).pipe(
      Effect.provide(
        flags.inProcess && Option.isNone(flags.db) ? Universe.layer(sampleUniverse()) : Universe.layerFromDatabase(databasePath(flags))
      )
    ),
    Chunk.toReadonlyArray
  )

/** The companies of the run: `--all`'s, or those given (arguments, `--input`); both at once is a usage error. */
const companiesOf = (
  flags: ReportFlags
): Effect.Effect<{ readonly companies: ReadonlyArray<string>; readonly amounts: Amounts | undefined }, InputError | UniverseUnavailable> =>
  !flags.all
    ? readInputs(flags.companies, flags.input)
    : flags.companies.length > 0 || Option.isSome(flags.input)
    ? Effect.fail(new InputError({ reason: "--all scores the whole universe: give it without companies or --input" }))
    : Effect.map(universeTickers(flags), (companies) => ({ companies, amounts: undefined }))

/** Reads the companies, then runs the report; a stop while the companies are read ends it at once, with no report. */
const reportWith = (flags: ReportFlags): Effect.Effect<number, never, Output> =>
  Effect.gen(function*() {
    const shutdown = yield* Shutdown
    const read = yield* Effect.raceFirst(
      Effect.map(Effect.either(companiesOf(flags)), Either.right),
      Effect.map(shutdown.requested, Either.left)
    )
    if (Either.isLeft(read)) {
      const output = yield* Output
      yield* output.stderr(`esg-aggregator: stopped by ${read.left} while reading the companies: no report`)
      return exitCodeOf(read.left)
    }
    return yield* Either.match(read.right, {
      onLeft: (error) => error._tag === "InputError" ? usage(error.message) : unavailable(error.message),
      onRight: ({ amounts, companies }) => reportOn(flags, companies, amounts)
    })
  })

export const reportCommand = Command.make("esg-aggregator", reportFlags, report).pipe(
  Command.withDescription("Builds an ESG report: fundamentals, emissions and governance per company, scored and cached")
)
