/**
 * Where the program's text goes: the report to stdout, diagnostics to stderr.
 * A service so that tests can run the CLI in-process and read both.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Ref } from "effect"

export interface OutputService {
  readonly stdout: (text: string) => Effect.Effect<void>
  readonly stderr: (text: string) => Effect.Effect<void>
  /** Whether stderr is a terminal (and `NO_COLOR`-free colour or a live status line may be drawn on it). */
  readonly stderrIsTerminal: boolean
  /** Whether the report on stdout may be coloured: stdout is a terminal and `NO_COLOR` is unset (or empty). */
  readonly stdoutColor: boolean
  /** Replaces the status line at the bottom of a terminal's stderr ("" erases it); nothing elsewhere. */
  readonly status: (text: string) => Effect.Effect<void>
}

/** Colour on a terminal unless `NO_COLOR` says otherwise (no-color.org: set and not empty). */
export const colorAllowed = (isTerminal: boolean, noColor: string | undefined): boolean =>
  isTerminal && (noColor === undefined || noColor === "")

const withNewline = (text: string) => (text.endsWith("\n") ? text : text + "\n")

export class Output extends Context.Tag("esg-aggregator/Output")<Output, OutputService>() {
  /** The process's own streams. */
  static readonly layerProcess: Layer.Layer<Output> = Layer.succeed(Output, {
    stdout: (text) => Effect.sync(() => void process.stdout.write(withNewline(text))),
    stderr: (text) => Effect.sync(() => void process.stderr.write(withNewline(text))),
    stderrIsTerminal: process.stderr.isTTY === true,
    stdoutColor: colorAllowed(process.stdout.isTTY === true, process.env["NO_COLOR"]),
    status: (text) =>
      process.stderr.isTTY === true
        ? Effect.sync(() => {
          // one line: cut to the terminal's width, when it has one
          const columns = process.stderr.columns ?? 0
          process.stderr.write(`\r\u001b[K${columns > 1 ? text.slice(0, columns - 1) : text}`)
        })
        : Effect.void
  })

  /** Captures both streams in memory; `captured` reads them back. `stdoutColor` plays a colour terminal. */
  static readonly makeCapture = (options: { readonly stdoutColor?: boolean } = {}) => Effect.gen(function*() {
    const streams = yield* Ref.make({ stdout: "", stderr: "" })
    const output = Output.of({
      stdout: (text) => Ref.update(streams, (s) => ({ ...s, stdout: s.stdout + withNewline(text) })),
      stderr: (text) => Ref.update(streams, (s) => ({ ...s, stderr: s.stderr + withNewline(text) })),
      stderrIsTerminal: false,
      stdoutColor: options.stdoutColor ?? false,
      status: () => Effect.void
    })
    return { output, captured: Ref.get(streams) } as const
  })
}
