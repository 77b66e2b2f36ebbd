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
  /** Replaces the status line at the bottom of a terminal's stderr ("" erases it); nothing elsewhere. */
  readonly status: (text: string) => Effect.Effect<void>
}

const withNewline = (text: string) => (text.endsWith("\n") ? text : text + "\n")

export class Output extends Context.Tag("esg-aggregator/Output")<Output, OutputService>() {
  /** The process's own streams. */
  static readonly layerProcess: Layer.Layer<Output> = Layer.succeed(Output, {
    stdout: (text) => Effect.sync(() => void process.stdout.write(withNewline(text))),
    stderr: (text) => Effect.sync(() => void process.stderr.write(withNewline(text))),
    stderrIsTerminal: process.stderr.isTTY === true,
    status: (text) =>
      process.stderr.isTTY === true
        ? Effect.sync(() => {
          // one line: cut to the terminal's width, when it has one
          const columns = process.stderr.columns ?? 0
          process.stderr.write(`\r\u001b[K${columns > 1 ? text.slice(0, columns - 1) : text}`)
        })
        : Effect.void
  })

  /** Captures both streams in memory; `captured` reads them back. */
  static readonly makeCapture = Effect.gen(function*() {
    const streams = yield* Ref.make({ stdout: "", stderr: "" })
    const output = Output.of({
      stdout: (text) => Ref.update(streams, (s) => ({ ...s, stdout: s.stdout + withNewline(text) })),
      stderr: (text) => Ref.update(streams, (s) => ({ ...s, stderr: s.stderr + withNewline(text) })),
      stderrIsTerminal: false,
      status: () => Effect.void
    })
    return { output, captured: Ref.get(streams) } as const
  })
}
