/**
 * The command-line interface: the command tree (the report, `import`,
 * `serve-providers`) and the one place where a parse or usage error is folded
 * into one line on stderr.
 *
 * Exit codes (`ExitCode`): 0 every company scored; 3 the report was produced
 * but some companies were skipped; 2 usage error; 4 a required resource is
 * missing (database, provider); 1 anything unexpected.
 *
 * @since 0.1.0
 */
import { Command, HelpDoc, ValidationError } from "@effect/cli"
import { type Console, Effect, Either, Logger, Option } from "effect"
import * as fs from "node:fs"
import { ExitCode } from "./cli/ExitCode.js"
import { type LogFormat, parseGlobals } from "./cli/Globals.js"
import { type HelpTopic, helpText } from "./cli/Help.js"
import { diffCommand } from "./cli/DiffCommand.js"
import { importCommand } from "./cli/ImportCommand.js"
import { Output } from "./cli/Output.js"
import { reportCommand } from "./cli/ReportCommand.js"
import { serveCommand } from "./cli/ServeCommand.js"

export { ExitCode }

const version: string = (() => {
  const pkg: unknown = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"))
  return typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string"
    ? pkg.version
    : "0.0.0"
})()

const command = reportCommand.pipe(Command.withSubcommands([importCommand, serveCommand, diffCommand]))

const cli = Command.run(command, { name: "esg-aggregator", version })

// eslint-disable-next-line no-control-regex -- ANSI colour codes are control sequences by definition
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "")

/** Logs on stderr in `format` (`--log-format`), in place of the default logger. */
export const stderrLogger = (format: LogFormat) =>
  Logger.replace(
    Logger.defaultLogger,
    format === "pretty"
      ? Logger.prettyLogger({ stderr: true, colors: process.stderr.isTTY === true && process.env.NO_COLOR === undefined })
      : Logger.withConsoleError(format === "json" ? Logger.jsonLogger : Logger.logfmtLogger)
  )

/** The help topic of the arguments: the subcommand they start with, else the report. */
const topicOf = (args: ReadonlyArray<string>): HelpTopic =>
  args[0] === "import" || args[0] === "serve-providers" || args[0] === "diff" ? args[0] : "report"

/**
 * Parses `argv` (with the node and script paths first, as `process.argv`)
 * and runs the command. The global flags are taken out first, wherever
 * they are (`Globals`); help and version text go to stdout through
 * `Output`. @effect/cli prints its own usage errors; they are held back
 * and folded into one line on stderr, so a usage error is one clear line
 * and never a stack trace.
 */
/**
 * `-` (standard input) as the first argument: the command-line parser reads
 * a leading `-` as the start of an option and rejects every flag after it,
 * so it is moved to the end, where it is the company argument it means.
 */
const stdinLast = (args: ReadonlyArray<string>): ReadonlyArray<string> =>
  args[0] === "-" && !args.includes("--") ? [...args.slice(1), "-"] : args

export const run = (argv: ReadonlyArray<string>, options: {
  /** The log format without `--log-format` (the bin's: pretty on a terminal, else logfmt); none keeps the current logger. */
  readonly logFormat?: LogFormat | undefined
} = {}) =>
  Effect.gen(function*() {
    const output = yield* Output
    const globals = parseGlobals(argv.slice(2))
    if (Either.isLeft(globals)) {
      yield* output.stderr(`esg-aggregator: ${globals.left} (see --help)`)
      return ExitCode.usage
    }
    const { help, logLevel, rest } = globals.right
    if (help) {
      yield* output.stdout(helpText(topicOf(rest), version, { color: output.stdoutColor }))
      return ExitCode.ok
    }
    if (globals.right.version) {
      yield* output.stdout(version)
      return ExitCode.ok
    }
    const base = yield* Effect.console
    const held: Array<string> = []
    const holding: Console.Console = {
      ...base,
      log: (...args: ReadonlyArray<unknown>) => output.stdout(args.map(String).join(" ")),
      error: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void held.push(args.map(String).join(" ")))
    }
    const command = cli([...argv.slice(0, 2), ...stdinLast(rest)]).pipe(
      Effect.map((code: number | void) => (typeof code === "number" ? code : ExitCode.ok)),
      Effect.withConsole(holding),
      Effect.either
    )
    const leveled = Option.match(logLevel, {
      onNone: () => command,
      onSome: (level) => Logger.withMinimumLogLevel(command, level)
    })
    const exit = yield* Option.match(Option.orElse(globals.right.logFormat, () => Option.fromNullable(options.logFormat)), {
      onNone: () => leveled,
      onSome: (format) => Effect.provide(leveled, stderrLogger(format))
    })
    if (exit._tag === "Right") return exit.right
    if (ValidationError.isValidationError(exit.left)) {
      const text = stripAnsi(held.length > 0 ? held.join("\n") : HelpDoc.toAnsiText(exit.left.error))
      const message = text.split("\n").map((line) => line.trim()).filter((line) => line.length > 0).join(" ")
      yield* output.stderr(`esg-aggregator: ${message} (see --help)`)
      return ExitCode.usage
    }
    return yield* Effect.fail(exit.left)
  })
