/**
 * The companies a report is asked for: the arguments, a file (`--input
 * FILE`) or standard input (`-`, as an argument or as the file). A file is
 * one company per line, blank lines and `#` comments ignored, or a CSV
 * whose header has a `ticker` or `name` column (the ticker preferred),
 * parsed by csv-parse. Duplicates are kept here: the aggregator scores and
 * reports each company once.
 *
 * Files are read as streams, a chunk at a time, so a file of any length
 * costs the names in it, and the event loop (signals included) runs
 * between chunks. What is not text is refused at its first chunk: a NUL
 * byte, or no line break in the first megabyte.
 *
 * @since 0.3.0
 */
import { parse } from "csv-parse"
import { Data, Effect, Option } from "effect"
import * as fs from "node:fs"
import { pipeline, Readable } from "node:stream"
import { StringDecoder } from "node:string_decoder"
import { Scenario } from "../Scenario.js"

/** The input could not be read, or named no company: one line for the user. */
export class InputError extends Data.TaggedError("InputError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

const STDIN = "-"

/** A file with no line break in this many bytes is no list of companies. */
export const FIRST_LINE_BYTES = 1024 * 1024

/** Bytes read at a time. */
const CHUNK_BYTES = 64 * 1024

const LF = 0x0a
const CR = 0x0d

/** Where a source's text is refused, or cannot be read; `reason` becomes the user's line. */
class Refused extends Error {}

/** The text of `bytes`, chunk by chunk, refused at the first sign it is not text. */
async function* textOf(bytes: AsyncIterable<Buffer>, name: string): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8")
  let offset = 0
  let lineBreakSeen = false
  for await (const chunk of bytes) {
    const nul = chunk.indexOf(0)
    if (nul >= 0) throw new Refused(`${name} is not a text file (a NUL byte at byte ${offset + nul})`)
    if (!lineBreakSeen) {
      const limit = FIRST_LINE_BYTES - offset
      const lf = chunk.indexOf(LF)
      const cr = chunk.indexOf(CR)
      const lineBreak = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr)
      lineBreakSeen = lineBreak >= 0 && lineBreak < limit
      if (!lineBreakSeen && chunk.length >= limit) {
        throw new Refused(`${name} is not a list of companies (no line break in its first megabyte)`)
      }
    }
    offset += chunk.length
    yield decoder.write(chunk)
  }
  const rest = decoder.end()
  if (rest !== "") yield rest
}

const meaningful = (line: string): boolean => {
  const trimmed = line.trim()
  return trimmed !== "" && !trimmed.startsWith("#")
}

/** The column a CSV's header line names companies by, if it is one. */
const csvColumn = (line: string): "ticker" | "name" | undefined => {
  if (!line.includes(",")) return undefined
  const header = line.split(",").map((cell) => cell.trim().replace(/^"|"$/g, "").toLowerCase())
  return header.includes("ticker") ? "ticker" : header.includes("name") ? "name" : undefined
}

/** The companies of a list, one per line, appended to `into` as the lines come. */
const readLines = async (text: AsyncIterable<string>, into: Array<string>): Promise<void> => {
  let rest = ""
  for await (const chunk of text) {
    const lines = (rest + chunk).split(/\r?\n|\r/)
    rest = lines.pop() ?? ""
    for (const line of lines) if (meaningful(line)) into.push(line.trim())
  }
  if (meaningful(rest)) into.push(rest.trim())
}

/** The companies of a CSV's `column`, appended to `into` as the rows come. */
const readCsv = async (text: AsyncIterable<string>, column: string, into: Array<string>): Promise<void> => {
  const rows: AsyncIterable<Record<string, string>> = pipeline(
    Readable.from(text, { objectMode: false }),
    parse({
      bom: true,
      record_delimiter: ["\r\n", "\n"],
      columns: (names: ReadonlyArray<string>) => names.map((name) => name.trim().toLowerCase()),
      comment: "#",
      skip_empty_lines: true,
      trim: true
    }),
    // the error reaches the loop below, which throws it
    () => {}
  )
  for await (const row of rows) {
    const value = row[column] ?? ""
    if (value !== "") into.push(value)
  }
}

/**
 * The companies in `bytes`, read from `name` (for messages): a list or a
 * CSV, decided by the first line that is neither blank nor a comment.
 */
export const readCompanies = async (bytes: AsyncIterable<Buffer>, name: string): Promise<Array<string>> => {
  const text = textOf(bytes, name)[Symbol.asyncIterator]()
  // the chunks read until the first line that counts is whole: it says what the file is
  const head: Array<string> = []
  let first: string | undefined
  let ended = false
  let pending = ""
  while (first === undefined && !ended) {
    const next = await text.next()
    if (next.done === true) {
      ended = true
      if (meaningful(pending)) first = pending
      break
    }
    head.push(next.value)
    const lines = (pending + next.value).split(/\r?\n|\r/)
    pending = lines.pop() ?? ""
    first = lines.find(meaningful)
  }
  async function* whole(): AsyncGenerator<string> {
    yield* head
    if (!ended) for await (const chunk of { [Symbol.asyncIterator]: () => text }) yield chunk
  }
  const companies: Array<string> = []
  const column = first === undefined ? undefined : csvColumn(first)
  await (column === undefined ? readLines(whole(), companies) : readCsv(whole(), column, companies))
  return companies
}

const displayName = (source: string): string => source === STDIN ? "standard input" : source

/** The companies of one source (a file, or `-`), read as a stream, stopped when interrupted. */
export const readSource = (source: string): Effect.Effect<Array<string>, InputError> =>
  Effect.tryPromise({
    try: (signal) => {
      const bytes = source === STDIN
        ? process.stdin
        : fs.createReadStream(source, { highWaterMark: CHUNK_BYTES, signal })
      return readCompanies(bytes, displayName(source))
    },
    catch: (cause) =>
      new InputError({
        reason: cause instanceof Refused
          ? cause.message
          : cause instanceof Error && "code" in cause && typeof cause.code === "string" && cause.code.startsWith("E")
          ? `cannot read ${displayName(source)}: ${cause.message.replace(/^[A-Z]+: /, "")}`
          : `${displayName(source)}: ${cause instanceof Error ? cause.message : String(cause)}`
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
      const companies = yield* readSource(source)
      if (companies.length === 0) {
        return yield* new InputError({ reason: `${displayName(source)}: no company in it` })
      }
      // appended one by one: spread into push, a long file would overflow the call stack
      for (const company of companies) read.push(company)
    }
    return read
  })
