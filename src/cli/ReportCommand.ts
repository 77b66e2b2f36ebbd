/**
 * The main command: flags become the application (`cli/App.ts`), the
 * aggregator runs once, the report goes to stdout.
 *
 * @since 0.2.0
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { Aggregator, allScored } from "../Aggregator.js"
import { render } from "../Report.js"
import { Scenario } from "../Scenario.js"
import type { WorkerStartError } from "../worker/WorkerPool.js"
import { appLayer } from "./App.js"
import { ExitCode } from "./ExitCode.js"
import { type ReportFlags, reportFlags } from "./Flags.js"
import { Output } from "./Output.js"

/** Runs the report and returns the process exit code. */
export const report = (flags: ReportFlags): Effect.Effect<number, never, Output> => {
  const inputs = flags.companies.length > 0 ? flags.companies : Scenario.companies
  return Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const output = yield* Output
    const result = yield* aggregator.run(inputs)
    yield* output.stdout(render(result, flags.format))
    return allScored(result) ? ExitCode.ok : ExitCode.partial
  }).pipe(
    Effect.provide(appLayer(flags, inputs.length)),
    Effect.catchTag("WorkerStartError", (error: WorkerStartError) =>
      Effect.as(Effect.flatMap(Output, (output) => output.stderr(`esg-aggregator: ${error.message}`)), ExitCode.unavailable))
  )
}

export const reportCommand = Command.make("esg-aggregator", reportFlags, report).pipe(
  Command.withDescription("Builds an ESG report: fundamentals, emissions and governance per company, scored and cached")
)
