/**
 * The companies a report is asked for: the arguments, a file (`--input
 * FILE`: one company per line, or a CSV with a column of tickers or names)
 * or standard input (`-`). Files are read as streams, a chunk at a time, so
 * that a file of any length costs only the names in it and signals are
 * answered between chunks.
 *
 * The design: docs/design.md#srccliinputsts
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

/** A workbook (an .xlsx is a zip file, an .xls an OLE2 file) is refused, saying what to give instead. */
const refuseWorkbook = (first: Buffer, name: string): void => {
  const zip = first.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))
  const ole = first.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))
  if (zip || ole) {
    throw new Refused(`${name} is a spreadsheet workbook${zip ? " (or another zip file)" : ""}, not text: save its sheet as CSV and give that file`)
  }
}

/** The text of `bytes`, chunk by chunk, refused at the first sign it is not text. */
async function* textOf(bytes: AsyncIterable<Buffer>, name: string): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8")
  let offset = 0
  let lineBreakSeen = false
  for await (const chunk of bytes) {
    if (offset === 0) refuseWorkbook(chunk, name)
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

/** The names of a column of tickers, and of a column of company names, a header may use (any case). */
export const TICKER_COLUMNS = ["ticker", "tickers", "symbol", "ticker symbol", "ticker_symbol"]
export const NAME_COLUMNS = ["name", "company", "company name", "company_name", "issuer", "security", "holding"]

/** The delimiters a CSV may use: a comma, a semicolon (what a spreadsheet saves where the comma is the decimal mark), a tab. */
const DELIMITERS = [",", ";", "\t"] as const

/** How many times `delimiter` occurs in `line` outside double quotes. */
const fieldsIn = (line: string, delimiter: string): number => {
  let quoted = false
  let count = 0
  for (const char of line) {
    if (char === "\"") quoted = !quoted
    else if (!quoted && char === delimiter) count++
  }
  return count
}

const cellsOf = (line: string, delimiter: string): Array<string> =>
  line.split(delimiter).map((cell) => cell.trim().replace(/^"|"$/g, "").trim())

/**
 * Whether a line is a table's row rather than a name with a comma in it
 * ("Tesla, Inc."): three cells or more, a semicolon or a tab, or a number
 * in its last cell.
 */
const looksLikeTable = (line: string, delimiter: string, count: number): boolean =>
  count >= 2 || delimiter !== "," || /^-?\d+(?:[.,]\d+)?%?$/.test(cellsOf(line, delimiter).at(-1) ?? "")

/** The names of a column of portfolio weights, and of position values in USD, a header may use (any case). */
export const WEIGHT_COLUMNS = ["weight", "weights", "weight %", "weight_pct", "portfolio weight", "portfolio_weight"]
export const VALUE_COLUMNS = ["value", "value_usd", "value usd", "market value", "market_value", "position value"]

/** A holdings file's column of amounts: weights or values, and where it is (1-based, for messages). */
interface AmountColumn {
  readonly kind: "weight" | "value"
  readonly name: string
  readonly position: number
}

/** What a file is, from its first two lines that count. */
type Shape =
  | { readonly _tag: "List" }
  | {
    readonly _tag: "Csv"
    readonly delimiter: string
    readonly column: string
    readonly amount: AmountColumn | undefined
  }

/**
 * A CSV when its header names a column of tickers or of names (detected
 * with its delimiter); a list of companies otherwise. A header with
 * delimiters whose next line is a row of as many cells (a table) but no
 * column of companies is refused: its lines would each become an unknown
 * company.
 */
const shapeOf = (first: string, second: string | undefined, name: string): Shape => {
  const counts = DELIMITERS.map((delimiter) => [delimiter, fieldsIn(first, delimiter)] as const)
  const [delimiter, count] = counts.reduce((most, next) => (next[1] > most[1] ? next : most))
  const header = cellsOf(first, count > 0 ? delimiter : ",").map((cell) => cell.toLowerCase())
  const column = header.find((cell) => TICKER_COLUMNS.includes(cell)) ?? header.find((cell) => NAME_COLUMNS.includes(cell))
  // values, when given, say more than weights (they give financed emissions too)
  const value = header.findIndex((cell) => VALUE_COLUMNS.includes(cell))
  const weight = header.findIndex((cell) => WEIGHT_COLUMNS.includes(cell))
  const amount: AmountColumn | undefined = value >= 0
    ? { kind: "value", name: header[value]!, position: value + 1 }
    : weight >= 0
    ? { kind: "weight", name: header[weight]!, position: weight + 1 }
    : undefined
  if (column !== undefined) return { _tag: "Csv", delimiter: count > 0 ? delimiter : ",", column, amount }
  if (count > 0 && second !== undefined && fieldsIn(second, delimiter) === count && looksLikeTable(second, delimiter, count)) {
    throw new Refused(
      `${name}: a table whose header names no column of companies (found ${cellsOf(first, delimiter).join(", ")}; ` +
        `accepted: ${TICKER_COLUMNS.join(", ")} for tickers, ${NAME_COLUMNS.join(", ")} for names)`
    )
  }
  return { _tag: "List" }
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

/**
 * The amounts of a holdings file, row by row: weights as percentages (any
 * with `%`, or summing to more than 1.5) or as fractions, or values in USD.
 */
export interface Amounts {
  readonly kind: "weight" | "value"
  readonly percent: boolean
  readonly values: Array<number>
}

/** One amount cell: a non-negative number (`12.5`, `12.5%`, `$1,250,000`); anything else is refused, naming where. */
const amountOf = (cell: string, column: AmountColumn, line: number, name: string): { readonly value: number; readonly percent: boolean } => {
  const where = `${name}: line ${line}, column ${column.position} (${column.name})`
  const percent = cell.endsWith("%")
  const plain = cell.replace(/%$/, "").replace(/^\$/, "").replaceAll(",", "").trim()
  if (plain === "") throw new Refused(`${where}: no ${column.kind} given`)
  const value = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(plain) ? Number(plain) : Number.NaN
  if (!Number.isFinite(value)) throw new Refused(`${where}: "${cell}" is not a number`)
  if (value < 0) throw new Refused(`${where}: "${cell}" is negative`)
  if (percent && column.kind === "value") throw new Refused(`${where}: "${cell}" is a percentage; a value is in USD`)
  return { value, percent }
}

/** The companies of a CSV's `column`, appended to `into` as the rows come, with their amounts when it has them. */
const readCsv = async (
  text: AsyncIterable<string>,
  shape: Extract<Shape, { _tag: "Csv" }>,
  into: Array<string>,
  name: string
): Promise<Amounts | undefined> => {
  const amount = shape.amount
  const values: Array<number> = []
  // where a percentage and a plain number were first seen: a file mixing them is refused
  let percentAt: number | undefined
  let plainAt: number | undefined
  const rows: AsyncIterable<{ readonly record: Record<string, string>; readonly info: { readonly lines: number } }> = pipeline(
    Readable.from(text, { objectMode: false }),
    parse({
      bom: true,
      delimiter: shape.delimiter,
      record_delimiter: ["\r\n", "\n"],
      columns: (names: ReadonlyArray<string>) => names.map((name) => name.trim().toLowerCase()),
      comment: "#",
      skip_empty_lines: true,
      trim: true,
      info: true
    }),
    // the error reaches the loop below, which throws it
    () => {}
  )
  for await (const { info, record } of rows) {
    const company = record[shape.column] ?? ""
    if (company === "") continue
    into.push(company)
    if (amount === undefined) continue
    const read = amountOf(record[amount.name] ?? "", amount, info.lines, name)
    if (read.percent) percentAt ??= info.lines
    else plainAt ??= info.lines
    if (percentAt !== undefined && plainAt !== undefined) {
      throw new Refused(
        `${name}: line ${Math.max(percentAt, plainAt)}, column ${amount.position} (${amount.name}): ` +
          `line ${percentAt} gives a percentage and line ${plainAt} a plain number: give every weight as a percentage (12.5%) or every one as a number`
      )
    }
    values.push(read.value)
  }
  if (amount === undefined) return undefined
  let sum = 0
  for (const value of values) sum += value
  return { kind: amount.kind, percent: amount.kind === "weight" && (percentAt !== undefined || sum > 1.5), values }
}

/**
 * The companies of a source, and the amounts of a holdings file (one per company, in order) when it has a weight
 * or value column.
 */
export interface Read {
  readonly companies: Array<string>
  readonly amounts: Amounts | undefined
}

/** The companies in `bytes`, read from `name` (for messages): see `readHoldings`. */
export const readCompanies = async (bytes: AsyncIterable<Buffer>, name: string): Promise<Array<string>> =>
  (await readHoldings(bytes, name)).companies

/**
 * The companies in `bytes`, read from `name` (for messages): a list or a
 * CSV, decided by the first line that is neither blank nor a comment; a
 * CSV's weights or values with them.
 */
export const readHoldings = async (bytes: AsyncIterable<Buffer>, name: string): Promise<Read> => {
  const text = textOf(bytes, name)[Symbol.asyncIterator]()
  // the chunks read until the first two lines that count are whole: they say what the file is
  const head: Array<string> = []
  const counted: Array<string> = []
  let ended = false
  let pending = ""
  while (counted.length < 2 && !ended) {
    const next = await text.next()
    if (next.done === true) {
      ended = true
      if (meaningful(pending)) counted.push(pending)
      break
    }
    head.push(next.value)
    const lines = (pending + next.value).split(/\r?\n|\r/)
    pending = lines.pop() ?? ""
    for (const line of lines) if (meaningful(line)) counted.push(line)
  }
  async function* whole(): AsyncGenerator<string> {
    yield* head
    if (!ended) for await (const chunk of { [Symbol.asyncIterator]: () => text }) yield chunk
  }
  const companies: Array<string> = []
  const shape: Shape = counted.length === 0 ? { _tag: "List" } : shapeOf(counted[0]!.replace(/^\uFEFF/, ""), counted[1], name)
  if (shape._tag === "List") {
    await readLines(whole(), companies)
    return { companies, amounts: undefined }
  }
  return { companies, amounts: await readCsv(whole(), shape, companies, name) }
}

const displayName = (source: string): string => source === STDIN ? "standard input" : source

/** The companies of one source (a file, or `-`), read as a stream, stopped when interrupted. */
export const readSource = (source: string): Effect.Effect<Read, InputError> =>
  Effect.tryPromise({
    try: (signal) => {
      const bytes = source === STDIN
        ? process.stdin
        : fs.createReadStream(source, { highWaterMark: CHUNK_BYTES, signal })
      return readHoldings(bytes, displayName(source))
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
): Effect.Effect<{ readonly companies: ReadonlyArray<string>; readonly amounts: Amounts | undefined }, InputError> =>
  Effect.gen(function*() {
    const sources = [...(args.includes(STDIN) ? [STDIN] : []), ...Option.toArray(file)]
    if (sources.length === 0) return { companies: args.length > 0 ? args : Scenario.companies, amounts: undefined }
    const read: Array<string> = args.filter((arg) => arg !== STDIN)
    let amounts: Amounts | undefined
    for (const source of sources) {
      const holdings = yield* readSource(source)
      if (holdings.companies.length === 0) {
        return yield* new InputError({ reason: `${displayName(source)}: no company in it` })
      }
      // appended one by one: spread into push, a long file would overflow the call stack
      for (const company of holdings.companies) read.push(company)
      amounts = holdings.amounts
    }
    // weights or values weigh a portfolio read from one holdings file alone
    return { companies: read, amounts: sources.length === 1 && read.length === holdings(amounts) ? amounts : undefined }
  })

const holdings = (amounts: Amounts | undefined): number => amounts?.values.length ?? -1
