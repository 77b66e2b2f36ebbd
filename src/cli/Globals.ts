/**
 * The global flags, accepted anywhere on the line: `--log-level`, `--log-format`, `--help`,
 * `--version`, `--completions`. They are taken out of the arguments before
 * the commands' own parser sees them (`--completions` is handed back first,
 * where @effect/cli reads it), so `--format json --log-level debug AAPL`
 * works as well as `--log-level debug --format json AAPL`.
 *
 * @since 0.3.0
 */
import { Either, LogLevel, Option } from "effect"

export const logLevels = ["all", "trace", "debug", "info", "warning", "error", "fatal", "none"] as const

const byName: Record<(typeof logLevels)[number], LogLevel.LogLevel> = {
  all: LogLevel.All,
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None
}

export const logFormats = ["pretty", "json", "logfmt"] as const
export type LogFormat = (typeof logFormats)[number]

export interface Globals {
  readonly logLevel: Option.Option<LogLevel.LogLevel>
  readonly logFormat: Option.Option<LogFormat>
  readonly help: boolean
  readonly version: boolean
  /** The arguments left for the commands' parser. */
  readonly rest: ReadonlyArray<string>
}

const parseLevel = (text: string | undefined): Either.Either<LogLevel.LogLevel, string> => {
  const level = text === undefined ? undefined : byName[text.toLowerCase() as keyof typeof byName]
  return level === undefined
    ? Either.left(`--log-level: expected one of ${logLevels.join(", ")}, got ${text === undefined ? "nothing" : `'${text}'`}`)
    : Either.right(level)
}

/**
 * Takes the global flags out of `args` (the arguments after the program's
 * name). Fails with the one line to print for a bad level or a flag that
 * is not offered (`--wizard` needs a terminal and has nothing to ask that
 * the flags do not say).
 */
export const parseGlobals = (args: ReadonlyArray<string>): Either.Either<Globals, string> => {
  let logLevel = Option.none<LogLevel.LogLevel>()
  let logFormat = Option.none<LogFormat>()
  let help = false
  let version = false
  const rest: Array<string> = []
  const first: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") {
      for (const after of args.slice(i)) rest.push(after)
      break
    }
    if (arg === "--log-level" || arg.startsWith("--log-level=")) {
      // a level never starts with a dash: what follows is the next flag, and the level is missing
      const next = args[i + 1]
      const text = arg !== "--log-level" ? arg.slice("--log-level=".length) : next?.startsWith("-") === false ? args[++i] : undefined
      const level = parseLevel(text)
      if (Either.isLeft(level)) return Either.left(level.left)
      logLevel = Option.some(level.right)
    } else if (arg === "--log-format" || arg.startsWith("--log-format=")) {
      const next = args[i + 1]
      const text = arg !== "--log-format" ? arg.slice("--log-format=".length) : next?.startsWith("-") === false ? args[++i] : undefined
      const format = logFormats.find((known) => known === text)
      if (format === undefined) {
        return Either.left(`--log-format: expected one of ${logFormats.join(", ")}, got ${text === undefined ? "nothing" : `'${text}'`}`)
      }
      logFormat = Option.some(format)
    } else if (arg === "--help" || arg === "-h") {
      help = true
    } else if (arg === "--version") {
      version = true
    } else if (arg === "--completions") {
      first.push(arg)
      if (args[i + 1] !== undefined) first.push(args[++i]!)
    } else if (arg === "--wizard") {
      return Either.left("--wizard is not offered: every setting is a flag")
    } else {
      rest.push(arg)
    }
  }
  return Either.right({ logLevel, logFormat, help, version, rest: [...first, ...rest] })
}
