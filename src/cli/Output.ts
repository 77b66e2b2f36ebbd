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
  /** The width of the terminal on stderr, when it is one. */
  readonly stderrColumns: number | undefined
  /** Replaces the status line at the bottom of a terminal's stderr ("" erases it); nothing elsewhere. */
  readonly status: (text: string) => Effect.Effect<void>
}

/** Colour on a terminal unless `NO_COLOR` says otherwise (no-color.org: set and not empty). */
export const colorAllowed = (isTerminal: boolean, noColor: string | undefined): boolean =>
  isTerminal && (noColor === undefined || noColor === "")

const withNewline = (text: string) => (text.endsWith("\n") ? text : text + "\n")

const ERASE_LINE = "\r\u001b[K"

/**
 * A terminal stream with a status line at its bottom: whatever else is
 * written (a log line, a warning) is written above it, whole, and the status
 * is drawn again under it. `write` is the stream's own write.
 */
export const statusLine = (write: (text: string) => void) => {
  let current = ""
  return {
    status: (text: string) => {
      current = text
      write(`${ERASE_LINE}${text}`)
    },
    /** Text for the stream: above the status line, which is drawn again once the text ends a line. */
    above: (text: string) => {
      if (current === "") return write(text)
      write(`${ERASE_LINE}${text}`)
      if (text.endsWith("\n")) write(current)
    }
  }
}

let installed: ReturnType<typeof statusLine> | undefined

/**
 * The status line of this process's stderr, installed on first use: every
 * other write to stderr (the loggers write there through `console.error`)
 * goes above it.
 */
const stderrStatus = (): ReturnType<typeof statusLine> => {
  if (installed !== undefined) return installed
  const original = process.stderr.write.bind(process.stderr) as (text: string) => boolean
  const line = statusLine((text) => void original(text))
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: Array<unknown>) => {
    line.above(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString())
    const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined
    callback?.()
    return true
  }) as typeof process.stderr.write
  return installed = line
}

export class Output extends Context.Tag("esg-aggregator/Output")<Output, OutputService>() {
  /** The process's own streams. */
  static readonly layerProcess: Layer.Layer<Output> = Layer.succeed(Output, {
    stdout: (text) => Effect.sync(() => void process.stdout.write(withNewline(text))),
    stderr: (text) => Effect.sync(() => void process.stderr.write(withNewline(text))),
    stderrIsTerminal: process.stderr.isTTY === true,
    get stderrColumns() {
      return process.stderr.isTTY === true ? process.stderr.columns : undefined
    },
    stdoutColor: colorAllowed(process.stdout.isTTY === true, process.env["NO_COLOR"]),
    status: (text) =>
      process.stderr.isTTY === true
        ? Effect.sync(() => {
          // one line: cut to the terminal's width, when it has one
          const columns = process.stderr.columns ?? 0
          stderrStatus().status(columns > 1 ? text.slice(0, columns - 1) : text)
        })
        : Effect.void
  })

  /**
   * Captures both streams in memory; `captured` reads them back.
   * `stdoutColor` plays a colour terminal, `stderrIsTerminal` a terminal on
   * stderr, whose status lines are kept in `statuses`.
   */
  static readonly makeCapture = (
    options: { readonly stdoutColor?: boolean; readonly stderrIsTerminal?: boolean; readonly stderrColumns?: number } = {}
  ) => Effect.gen(function*() {
    const streams = yield* Ref.make({ stdout: "", stderr: "", statuses: [] as ReadonlyArray<string> })
    const output = Output.of({
      stdout: (text) => Ref.update(streams, (s) => ({ ...s, stdout: s.stdout + withNewline(text) })),
      stderr: (text) => Ref.update(streams, (s) => ({ ...s, stderr: s.stderr + withNewline(text) })),
      stderrIsTerminal: options.stderrIsTerminal ?? false,
      stderrColumns: options.stderrColumns,
      stdoutColor: options.stdoutColor ?? false,
      status: (text) => Ref.update(streams, (s) => ({ ...s, statuses: [...s.statuses, text] }))
    })
    return { output, captured: Ref.get(streams) } as const
  })
}
