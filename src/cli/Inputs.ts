/**
 * The companies a report is asked for: the arguments, a file (`--input
 * FILE`) or standard input (`-`, as an argument or as the file). A file is
 * one company per line, blank lines and `#` comments ignored, or a CSV
 * whose header has a `ticker` or `name` column (the ticker preferred),
 * parsed by csv-parse. Duplicates are kept here: the aggregator scores and
 * reports each company once.
 *
 * @since 0.3.0
 */
import { parse } from "csv-parse/sync"
import { Data, Effect, Option } from "effect"
import * as fs from "node:fs"
import { Scenario } from "../Scenario.js"

/** The input could not be read, or named no company: one line for the user. */
export class InputError extends Data.TaggedError("InputError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

const STDIN = "-"

/** The companies in `text`, read from `source` (for messages). */
export const parseInputs = (text: string, source: string): Effect.Effect<ReadonlyArray<string>, InputError> =>
  Effect.try({
    try: () => {
      const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/)
      const first = lines.find((line) => line.trim() !== "" && !line.trim().startsWith("#"))
      const header = first === undefined ? [] : first.split(",").map((cell) => cell.trim().replace(/^"|"$/g, "").toLowerCase())
      const column = header.includes("ticker") ? "ticker" : header.includes("name") ? "name" : undefined
      if (first !== undefined && first.includes(",") && column !== undefined) {
        const rows: ReadonlyArray<Record<string, string>> = parse(text, {
          bom: true,
          record_delimiter: ["\r\n", "\n"],
          columns: (names: ReadonlyArray<string>) => names.map((name) => name.trim().toLowerCase()),
          comment: "#",
          skip_empty_lines: true,
          trim: true
        })
        return rows.map((row) => row[column] ?? "").filter((value) => value !== "")
      }
      return lines.map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"))
    },
    catch: (cause) => new InputError({ reason: `${source}: ${cause instanceof Error ? cause.message : String(cause)}` })
  })

const readSource = (source: string): Effect.Effect<string, InputError> =>
  Effect.try({
    // a file of company names: read once, before the run starts
    try: () => fs.readFileSync(source === STDIN ? 0 : source, "utf8"),
    catch: (cause) =>
      new InputError({
        reason: `cannot read ${source === STDIN ? "standard input" : source}: ${
          cause instanceof Error ? cause.message.replace(/^[A-Z]+: /, "") : String(cause)
        }`
      })
  })

/**
 * The companies of a report: the arguments (`-` among them reads stdin),
 * then `--input`'s; the scenario's five when none is given at all. A file
 * or stdin that names no company is an error.
 */
export const readInputs = (
  args: ReadonlyArray<string>,
  file: Option.Option<string>
): Effect.Effect<ReadonlyArray<string>, InputError> =>
  Effect.gen(function*() {
    const sources = [...(args.includes(STDIN) ? [STDIN] : []), ...Option.toArray(file)]
    if (sources.length === 0) return args.length > 0 ? args : Scenario.companies
    const read: Array<string> = args.filter((arg) => arg !== STDIN)
    for (const source of sources) {
      const companies = yield* Effect.flatMap(readSource(source), (text) => parseInputs(text, source === STDIN ? "standard input" : source))
      if (companies.length === 0) {
        return yield* new InputError({ reason: `${source === STDIN ? "standard input" : source}: no company in it` })
      }
      read.push(...companies)
    }
    return read
  })
