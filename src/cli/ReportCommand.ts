/**
 * The main command: flags become the application (`cli/App.ts`), the
 * aggregator runs once, the report goes to stdout.
 *
 * @since 0.2.0
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { Aggregator, allScored } from "../Aggregator.js"
import type { ProviderRefused } from "../Domain.js"
import { render } from "../Report.js"
import { Scenario } from "../Scenario.js"
import type { WorkerStartError } from "../worker/WorkerPool.js"
import type { UniverseUnavailable } from "../universe/Universe.js"
import { appLayer, poolFailure } from "./App.js"
import { ExitCode } from "./ExitCode.js"
import { type ReportFlags, reportFlags } from "./Flags.js"
import { Output } from "./Output.js"
import { exitCodeOf, Shutdown, untilShutdown } from "./Shutdown.js"

const unavailable = (message: string) =>
  Effect.as(Effect.flatMap(Output, (output) => output.stderr(`esg-aggregator: ${message}`)), ExitCode.unavailable)

/** How long a stopped run has to print its partial report before it is cut short. */
const STOP_GRACE = "700 millis"

/** Runs the report and returns the process exit code. */
export const report = (flags: ReportFlags): Effect.Effect<number, never, Output> => {
  const inputs = flags.companies.length > 0 ? flags.companies : Scenario.companies
  return Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const output = yield* Output
    const shutdown = yield* Shutdown
    // a stop request ends the run early: what finished is still reported; a pool that cannot start ends it at once
    const result = yield* Effect.raceFirst(aggregator.run(inputs, { until: shutdown.requested }), poolFailure)
    yield* output.stdout(render(result, flags.format))
    if (result.summary.partial) {
      const signal = yield* shutdown.requested
      yield* output.stderr(
        `esg-aggregator: stopped by ${signal}: partial report, ${result.summary.requested} of ${inputs.length} companies finished`
      )
      return exitCodeOf(signal)
    }
    return allScored(result) ? ExitCode.ok : ExitCode.partial
  }).pipe(
    Effect.provide(appLayer(flags, inputs.length)),
    // a pool that cannot start, or a provider that refuses the key: one line, nothing else could be done
    Effect.catchTags({
      WorkerStartError: (error: WorkerStartError) => unavailable(error.message),
      UniverseUnavailable: (error: UniverseUnavailable) => unavailable(error.message),
      ProviderRefused: (error: ProviderRefused) => unavailable(error.message)
    }),
    // a stop while the pools are still starting, or a run that does not end soon after it: cut short
    (report) => untilShutdown(report, STOP_GRACE)
  )
}

export const reportCommand = Command.make("esg-aggregator", reportFlags, report).pipe(
  Command.withDescription("Builds an ESG report: fundamentals, emissions and governance per company, scored and cached")
)
