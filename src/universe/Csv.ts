/**
 * The CSV codec for company universes (`data/universe.csv`, the committed
 * source the build turns into `dist/universe.db`, and files for `import`).
 * Every row is decoded with the same `CompanyRecord` schema the database
 * reader uses, deductions included, so nothing it accepts can fail later.
 *
 * @since 0.2.0
 */
import { parse } from "csv-parse/sync"
import { stringify } from "csv-stringify/sync"
import { Either, ParseResult, Schema } from "effect"
import { CompanyRecord } from "../Domain.js"
import { columns } from "./Database.js"

/** The exact header line of `data/universe.csv`. */
export const CSV_HEADER = columns.map((c) => c.column).join(",")

const encodeRecord = Schema.encodeSync(CompanyRecord)

/**
 * Serialises records as CSV under `CSV_HEADER` (csv-stringify: a field is
 * quoted when it holds a comma, a quote or a line break). Lines end in LF to
 * keep the committed file diff-friendly; `parseCsv` reads both. Numbers use
 * the shortest round-trip form.
 */
export const toCsv = (records: ReadonlyArray<CompanyRecord>): string =>
  stringify([
    columns.map((c) => c.column),
    ...records.map((record) => encodeRecord(record)).map((r) => columns.map((c) => String(r[c.field])))
  ], { record_delimiter: "unix" })

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
    catch: (cause) => {
      const error = cause as { readonly code?: string; readonly message?: string }
      const reason = error.code === "CSV_QUOTE_NOT_CLOSED"
        ? "unterminated quoted field"
        : (error.message ?? String(cause)).replace(/^[A-Za-z ]+: /, "")
      return csvError(source, lastLine + 1, reason)
    }
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

/**
 * Parses CSV written by `toCsv` (or by hand, or a spreadsheet) into records,
 * validating every row against the `CompanyRecord` schema and checking that
 * tickers and names are unique. Throws an `Error` naming the line and the
 * column on the first bad row; `options.source` (a file name) prefixes it.
 */
export const parseCsv = (
  text: string,
  options?: { readonly source?: string }
): ReadonlyArray<CompanyRecord> => {
  const source = options?.source
  const [header, ...rows] = splitCsv(text, source)
  if (header === undefined) throw csvError(source, 1, `empty file, expected the header ${CSV_HEADER}`)
  if (header.fields.join(",") !== CSV_HEADER) {
    throw csvError(source, header.line, `expected the header ${CSV_HEADER}, found ${header.fields.join(",")}`)
  }
  const decode = Schema.decodeUnknownEither(CompanyRecord)
  const firstLine = { ticker: new Map<string, number>(), name: new Map<string, number>() }
  return rows.map(({ fields, line }) => {
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
    const decoded = decode(raw, { errors: "all" })
    if (Either.isLeft(decoded)) {
      const byColumn = new Map<string, Array<string>>()
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(decoded.left)) {
        const column = columns.find((c) => c.field === issue.path[0])?.column ?? String(issue.path[0])
        byColumn.set(column, [...(byColumn.get(column) ?? []), issue.message])
      }
      const [column, messages] = [...byColumn][0]!
      throw csvError(source, line, `${column}: ${describeIssues(messages)}`)
    }
    const record = decoded.right
    for (const key of ["ticker", "name"] as const) {
      const previous = firstLine[key].get(record[key])
      if (previous !== undefined) {
        throw csvError(source, line, `${key}: duplicate ${JSON.stringify(record[key])} (first on line ${previous})`)
      }
      firstLine[key].set(record[key], line)
    }
    return record
  })
}
