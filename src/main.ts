#!/usr/bin/env node
/**
 * The bin: wires the process's streams, logger and platform once, runs the
 * CLI, and turns its result into the exit code.
 *
 * @since 0.1.0
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer, Logger } from "effect"
import * as Cli from "./Cli.js"
import { Output } from "./cli/Output.js"

// Logs go to stderr so that stdout carries nothing but the report.
const StderrLogger = Logger.replace(
  Logger.defaultLogger,
  process.stderr.isTTY ? Logger.prettyLogger({ stderr: true }) : Logger.withConsoleError(Logger.logfmtLogger)
)

const MainLayer = Layer.mergeAll(NodeContext.layer, Output.layerProcess, StderrLogger)

// A reader that goes away (`| head`) is not an error of ours.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
})

const main = Cli.run(process.argv).pipe(Effect.provide(MainLayer))

NodeRuntime.runMain(main, {
  disablePrettyLogger: true,
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) {
      process.exitCode = typeof exit.value === "number" ? exit.value : 0
      return onExit(process.exitCode)
    }
    if (Cause.isInterruptedOnly(exit.cause)) return onExit(130)
    process.stderr.write(`esg-aggregator: unexpected failure\n${Cause.pretty(exit.cause)}\n`)
    onExit(Cli.ExitCode.failure)
  }
})
