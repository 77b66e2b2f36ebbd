/**
 * The bin, loaded by `main.ts` for everything but plain `--help` and
 * `--version`: wires the process's streams, logger, platform and signals
 * once, runs the CLI, and turns its result into the exit code.
 *
 * The first SIGINT or SIGTERM is a stop request (`Shutdown`): the report
 * ends its run, prints what finished, and the process exits 130 or 143. A
 * second signal exits at once.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Cause, Effect, Exit, Layer } from "effect"
import * as Cli from "./Cli.js"
import { Output } from "./cli/Output.js"
import { exitCodeOf, Shutdown, type StopSignal } from "./cli/Shutdown.js"


const shutdown = Shutdown.unsafeMake()
const onSignal = (signal: StopSignal) => {
  if (!shutdown.request(signal)) process.exit(exitCodeOf(signal))
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

// A reader that goes away (`| head`) is not an error of ours.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
})

const MainLayer = Layer.merge(NodeContext.layer, Output.layerProcess)

// logs go to stderr so that stdout carries nothing but the report: pretty on a terminal, else logfmt (`--log-format`).
// The program exports no traces, so its spans are switched off: each captures its call site's stack, which cost
// about half a millisecond per provider request (measured: 806 µs of CPU a request with them, 318 µs without).
const main = Cli.run(process.argv, { logFormat: process.stderr.isTTY ? "pretty" : "logfmt" }).pipe(
  Effect.provide(MainLayer),
  Effect.provideService(Shutdown, shutdown.service),
  Effect.withTracerEnabled(false)
)

/**
 * Exits with `code` once stdout and stderr have handed over what was written
 * to them: a write to a pipe is asynchronous, and a report larger than the
 * pipe's buffer would otherwise be cut where the reader had not caught up.
 */
const exitAfterFlush = (code: number) => {
  process.exitCode = code
  let pending = 2
  const flushed = () => {
    if (--pending === 0) process.exit(code)
  }
  process.stdout.write("", flushed)
  process.stderr.write("", flushed)
}

// the run may wait on nothing but its own fibers for a while: the process stays up until it ends
const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
Effect.runFork(main).addObserver((exit) => {
  clearInterval(keepAlive)
  if (Exit.isSuccess(exit)) return exitAfterFlush(exit.value)
  if (Cause.isInterruptedOnly(exit.cause)) return exitAfterFlush(Cli.ExitCode.interrupted)
  process.stderr.write(`esg-aggregator: unexpected failure\n${Cause.pretty(exit.cause)}\n`)
  exitAfterFlush(Cli.ExitCode.failure)
})
