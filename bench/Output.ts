/**
 * Where the benchmark writes. By default everything is for people: tables
 * on stdout. With `--json`, stdout carries nothing but one JSON line per
 * measured row, for scripts, and everything for people goes to stderr.
 */
import { Console, Effect } from "effect"
import { Console as NodeConsole } from "node:console"

/** One measured row, as `--json` prints it. Raw figures beside the verdict. */
export interface JsonRow {
  readonly row: string
  readonly value: number
  readonly unit: string
  readonly target: number | null
  readonly met: boolean | null
  readonly [figure: string]: unknown
}

/**
 * Runs `self` with the console's `log` writing to stderr: `Console.log`
 * (the tables) and the default logger, which writes through the console's
 * unsafe `log`.
 */
export const logToStderr = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) =>
    Console.withConsole(self, {
      ...console,
      log: (...args) => console.error(...args),
      unsafe: new NodeConsole(process.stderr, process.stderr)
    })
  )

/** One JSON line on stdout, whatever the console. */
export const jsonLine = (row: JsonRow): Effect.Effect<void> =>
  Effect.sync(() => {
    process.stdout.write(`${JSON.stringify(row)}\n`)
  })

/** What the benchmark is doing now: always on stderr, so it never mixes with JSON lines. */
export const progress = (message: string): Effect.Effect<void> => Console.error(message)
