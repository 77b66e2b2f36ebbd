/**
 * The CSV codec for company universes (`data/universe.csv`, the committed
 * source the build turns into `dist/universe.db`, and files for `import`).
 * Every row is decoded with the same `CompanyRecord` schema the database
 * reader uses, deductions included, so nothing it accepts can fail later.
 *
 * @since 0.2.0
 */
import { parse as parseStream } from "csv-parse"
import { parse } from "csv-parse/sync"
import { stringify } from "csv-stringify/sync"
import { Either, ParseResult, Schema } from "effect"
import { pipeline } from "node:stream"
import { CompanyRecord } from "../Domain.js"
import { columns } from "./Columns.js"

/**
 * The exact header line of `data/universe.csv`.
 *
 * @since 0.1.0
 */
export const CSV_HEADER = columns.map((c) => c.column).join(",")

const encodeRecord = Schema.encodeSync(CompanyRecord)

/**
 * Serialises records as CSV under `CSV_HEADER` (csv-stringify: a field is
 * quoted when it holds a comma, a quote or a line break). Lines end in LF to
 * keep the committed file diff-friendly; `parseCsv` reads both. Numbers use
 * the shortest round-trip form.
 *
 * @since 0.1.0
 */
export const toCsv = (records: ReadonlyArray<CompanyRecord>): string =>
  stringify([
    columns.map((c) => c.column),
    ...records.map((record) => encodeRecord(record)).map((r) => columns.map((c) => String(r[c.field])))
  ], { record_delimiter: "unix" })

/** What csv-parse said was wrong, in the words of this file's other messages. */
const csvReason = (cause: unknown): string => {
  const error = cause as { readonly code?: string; readonly message?: string }
  return error.code === "CSV_QUOTE_NOT_CLOSED"
    ? "unterminated quoted field"
    : (error.message ?? String(cause)).replace(/^[A-Za-z ]+: /, "")
}

interface CsvRow {
  /** 1-based line on which the row ends (a quoted field may span lines). */
  readonly line: number
  readonly fields: ReadonlyArray<string>
}

const csvError = (source: string | undefined, line: number, message: string): Error =>
  new Error(`${source === undefined ? "" : `${source}: `}line ${line}: ${message}`)

/** Splits CSV text into rows of raw fields (csv-parse), skipping empty lines; a malformed file names its line. */
const splitCsv = (text: string, source: string | undefined): ReadonlyArray<CsvRow> => {
  // the line on which the last whole record ended: a bad record starts after it
  let lastLine = 0
  const rows = Either.try({
    try: () =>
      parse(text, {
        bom: true,
        // a file may mix line endings (a header from one tool, rows from another)
        record_delimiter: ["\r\n", "\n"],
        relax_column_count: true,
        skip_empty_lines: true,
        on_record: (record: Array<string>, context: { readonly lines: number }) => {
          lastLine = context.lines
          return [String(context.lines), ...record]
        }
      }).map(([line, ...fields]): CsvRow => ({ line: Number(line), fields })),
    catch: (cause) => csvError(source, lastLine + 1, csvReason(cause))
  })
  if (Either.isLeft(rows)) throw rows.left
  return rows.right
}

// Strict on purpose: Number() would accept "", " 1", "0x1f" and "Infinity".
const decimalPattern = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

// The union of literals (sector) yields one issue per literal; fold them
// into one "Expected a | b, actual x".
const describeIssues = (messages: ReadonlyArray<string>): string => {
  if (messages.length === 1) return messages[0]!
  const parts = messages.map((m) => /^Expected (.*), actual (.*)$/s.exec(m))
  return parts.every((p) => p !== null && p[2] === parts[0]![2])
    ? `Expected one of ${parts.map((p) => p![1]).join(" | ")}, actual ${parts[0]![2]}`
    : messages.join("; ")
}

/** Checks a header row; throws an `Error` naming the line when it is not `CSV_HEADER`. */
const checkHeader = (header: CsvRow | undefined, source: string | undefined): void => {
  if (header === undefined) throw csvError(source, 1, `empty file, expected the header ${CSV_HEADER}`)
  if (header.fields.join(",") !== CSV_HEADER) {
    throw csvError(source, header.line, `expected the header ${CSV_HEADER}, found ${header.fields.join(",")}`)
  }
}

const decode = Schema.decodeUnknownEither(CompanyRecord)

/**
 * The same checks, without building anything: what a streamed import keeps
 * is the row as read. Every field but the deductions is its own type
 * encoded (refinements, no transformation), so a type guard of them checks
 * what decoding would, in a third of the time; the deductions are decoded
 * by their own schema. A row that fails is decoded in full, for the message.
 */
const { governanceDeductions: deductionsField, ...plainFields } = CompanyRecord.fields
const isPlain = Schema.is(Schema.Struct(plainFields))
const deductionsValid = Schema.is(Schema.encodedSchema(deductionsField))
const decodeDeductions = Schema.decodeUnknownEither(deductionsField)
const validate = (raw: unknown, options: { readonly errors: "all" }): Either.Either<unknown, ParseResult.ParseError> => {
  const deductions = (raw as { readonly governanceDeductions?: unknown }).governanceDeductions
  return isPlain(raw) && deductionsValid(deductions) && (deductions === "" || Either.isRight(decodeDeductions(deductions)))
    ? Either.right(raw)
    : Schema.decodeUnknownEither(Schema.Struct(CompanyRecord.fields))(raw, options)
}

type CompanyRow = typeof CompanyRecord.Encoded

/** One row as read (numbers parsed), checked against `CompanyRecord`; throws an `Error` naming the line and the column. */
const checkRow = (
  { fields, line }: CsvRow,
  source: string | undefined,
  decodeWith: (raw: unknown, options: { readonly errors: "all" }) => Either.Either<unknown, ParseResult.ParseError>
): { readonly raw: CompanyRow; readonly decoded: unknown } => {
  if (fields.length !== columns.length) {
    throw csvError(source, line, `expected ${columns.length} fields, found ${fields.length}`)
  }
  const raw: Record<string, string | number> = {}
  columns.forEach((c, i) => {
    const value = fields[i]!
    if (c.numeric && !decimalPattern.test(value)) {
      throw csvError(source, line, `${c.column}: expected a number, found ${JSON.stringify(value)}`)
    }
    raw[c.field] = c.numeric ? Number(value) : value
  })
  const decoded = decodeWith(raw, { errors: "all" })
  if (Either.isRight(decoded)) return { raw: raw as unknown as CompanyRow, decoded: decoded.right }
  const byColumn = new Map<string, Array<string>>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(decoded.left)) {
    const column = columns.find((c) => c.field === issue.path[0])?.column ?? String(issue.path[0])
    byColumn.set(column, [...(byColumn.get(column) ?? []), issue.message])
  }
  const [column, messages] = [...byColumn][0]!
  throw csvError(source, line, `${column}: ${describeIssues(messages)}`)
}

/** One row's record, validated against `CompanyRecord`. */
const decodeRow = (row: CsvRow, source: string | undefined): CompanyRecord =>
  checkRow(row, source, decode).decoded as CompanyRecord

/**
 * Parses CSV written by `toCsv` (or by hand, or a spreadsheet) into records,
 * validating every row against the `CompanyRecord` schema and checking that
 * tickers and names are unique. Throws an `Error` naming the line and the
 * column on the first bad row; `options.source` (a file name) prefixes it.
 *
 * @since 0.1.0
 */
export const parseCsv = (
  text: string,
  options?: { readonly source?: string }
): ReadonlyArray<CompanyRecord> => {
  const source = options?.source
  const [header, ...rows] = splitCsv(text, source)
  checkHeader(header, source)
  const firstLine = { ticker: new Map<string, number>(), name: new Map<string, number>() }
  return rows.map((row) => {
    const record = decodeRow(row, source)
    for (const key of ["ticker", "name"] as const) {
      const previous = firstLine[key].get(record[key])
      if (previous !== undefined) {
        throw csvError(source, row.line, `${key}: duplicate ${JSON.stringify(record[key])} (first on line ${previous})`)
      }
      firstLine[key].set(record[key], row.line)
    }
    return record
  })
}

/**
 * The rows of a CSV stream, as they come, each checked against
 * `CompanyRecord` (in its encoded form, as a database stores it) and with
 * the line it ends on: what `parseCsv` reads, a row at a time, so a file of
 * any length costs one row. Throws (from the iteration) an `Error` naming the line and the column
 * of the first bad row. Uniqueness is the caller's: the database checks it.
 *
 * @since 0.1.0
 */
export async function* streamCsv(
  bytes: NodeJS.ReadableStream,
  options?: { readonly source?: string }
): AsyncGenerator<{ readonly row: typeof CompanyRecord.Encoded; readonly line: number }> {
  const source = options?.source
  // the line on which the last whole record ended: a bad record starts after it
  let lastLine = 0
  const rows: AsyncIterable<CsvRow> = pipeline(
    bytes,
    parseStream({
      bom: true,
      record_delimiter: ["\r\n", "\n"],
      relax_column_count: true,
      skip_empty_lines: true,
      // the line a record ends on, from csv-parse's count, with the record (cheaper than its `info` object)
      on_record: ((fields: Array<string>, context: { readonly lines: number }): CsvRow => ({ line: context.lines, fields })) as unknown as (
        record: Array<string>
      ) => Array<string>
    }),
    // the error reaches the loop below
    () => {}
  )
  const iterator = rows[Symbol.asyncIterator]()
  let header = true
  for (;;) {
    const next = await iterator.next().then(
      (result) => result,
      (cause) => {
        throw csvError(source, lastLine + 1, csvReason(cause))
      }
    )
    if (next.done === true) break
    const row = next.value
    const line = lastLine = row.line
    if (header) {
      checkHeader(row, source)
      header = false
      continue
    }
    yield { row: checkRow(row, source, validate).raw, line }
  }
  if (header) checkHeader(undefined, source)
}
