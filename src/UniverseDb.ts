/**
 * The embedded fundamentals database: a SQLite file holding the company
 * universe, read synchronously with better-sqlite3. It runs inside worker
 * threads, so everything here is plain synchronous code over light imports;
 * the Effect side (pool, timeouts, typed errors) lives with its caller.
 *
 * Also the CSV codec for `data/universe.csv`, the committed source the build
 * turns into `dist/universe.db`.
 *
 * @since 0.1.0
 */
import Database from "better-sqlite3"
import { Either, ParseResult, Schema } from "effect"
import * as fs from "node:fs"
import type { DirectoryEntry } from "./CompanyDirectory.js"
import { CompanyRecord, Fundamentals, sectors, Ticker } from "./Domain.js"

/** Bumped whenever `SCHEMA_SQL` changes shape; `openUniverseDb` refuses other versions. */
export const SCHEMA_VERSION = 1

// One table drives the CSV header, the SQL column names and the record
// fields, so the three cannot drift apart.
const columns = [
  { column: "ticker", field: "ticker", numeric: false },
  { column: "name", field: "name", numeric: false },
  { column: "sector", field: "sector", numeric: false },
  { column: "market_cap_usd", field: "marketCapUsd", numeric: true },
  { column: "revenue_usd_m", field: "revenueUsdM", numeric: true },
  { column: "scope1_tco2e", field: "scope1Tco2e", numeric: true },
  { column: "scope2_tco2e", field: "scope2Tco2e", numeric: true },
  { column: "uncertainty_pct", field: "uncertaintyPct", numeric: true },
  { column: "reporting_year", field: "reportingYear", numeric: true },
  { column: "governance_score", field: "governanceScore", numeric: true },
  { column: "governance_deductions", field: "governanceDeductions", numeric: false }
] as const satisfies ReadonlyArray<{
  readonly column: string
  readonly field: keyof typeof CompanyRecord.fields
  readonly numeric: boolean
}>

/** The exact header line of `data/universe.csv`. */
export const CSV_HEADER = columns.map((c) => c.column).join(",")

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`

/**
 * The database schema. STRICT tables make SQLite enforce the declared column
 * types instead of storing whatever it is given.
 */
export const SCHEMA_SQL = `CREATE TABLE companies (
  ticker TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  sector TEXT NOT NULL CHECK (sector IN (${sectors.map(sqlString).join(", ")})),
  market_cap_usd REAL NOT NULL,
  revenue_usd_m REAL NOT NULL CHECK (revenue_usd_m > 0),
  scope1_tco2e REAL NOT NULL,
  scope2_tco2e REAL NOT NULL,
  uncertainty_pct REAL NOT NULL,
  reporting_year INTEGER NOT NULL,
  governance_score REAL NOT NULL,
  governance_deductions TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE TABLE metadata (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/** Runs `f`, then `cleanup` whether or not `f` threw; rethrows what `f` threw. */
const withCleanup = <A>(f: () => A, cleanup: () => void): A => {
  const result = Either.try(f)
  cleanup()
  if (Either.isLeft(result)) throw result.left
  return result.right
}

const writeDatabase = (
  path: string,
  records: ReadonlyArray<CompanyRecord>,
  metadata: Readonly<Record<string, string>>
): void => {
  const db = new Database(path)
  withCleanup(() => {
    db.exec(SCHEMA_SQL)
    const insertCompany = db.prepare(
      `INSERT INTO companies (${columns.map((c) => c.column).join(", ")})
       VALUES (${columns.map((c) => `@${c.field}`).join(", ")})`
    )
    const insertMetadata = db.prepare("INSERT INTO metadata (key, value) VALUES (?, ?)")
    db.transaction(() => {
      for (const record of records) {
        insertCompany.run(Object.fromEntries(columns.map((c) => [c.field, record[c.field]])))
      }
      for (const [key, value] of Object.entries({ ...metadata, schema_version: String(SCHEMA_VERSION) })) {
        insertMetadata.run(key, value)
      }
    })()
  }, () => db.close())
}

/**
 * Writes a fresh database at `path` holding `records` (in this order) and
 * `metadata` (plus `schema_version`). The file is built beside the target and
 * renamed into place, so readers never see a half-written database.
 */
export const createDatabase = (
  path: string,
  records: ReadonlyArray<CompanyRecord>,
  metadata: Readonly<Record<string, string>>
): void => {
  const tmp = `${path}.tmp`
  fs.rmSync(tmp, { force: true })
  const written = Either.try(() => writeDatabase(tmp, records, metadata))
  if (Either.isLeft(written)) {
    fs.rmSync(tmp, { force: true })
    throw written.left
  }
  fs.renameSync(tmp, path)
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/** A read-only handle on a universe database. Not thread-safe: one per worker. */
export interface UniverseDb {
  /** One company's fundamentals, `undefined` when the ticker is not in the database. */
  fundamentals(ticker: Ticker): Fundamentals | undefined
  /** Every company, in the order they were written. */
  records(): ReadonlyArray<CompanyRecord>
  /** Ticker and name of every company, for `makeDirectory`. */
  directoryEntries(): ReadonlyArray<DirectoryEntry>
  /** The metadata table (`schema_version`, `synthetic`, `source`, ...). */
  metadata(): Readonly<Record<string, string>>
  close(): void
}

type FundamentalsRow = ConstructorParameters<typeof Fundamentals>[0]
type CompanyRow = ConstructorParameters<typeof CompanyRecord>[0]

// Aliasing columns to field names lets a row go straight into the class
// constructors, which validate it: a bad row is reported, never passed on.
const selectAs = (fields: ReadonlyArray<string>): string =>
  columns
    .filter((c) => fields.includes(c.field))
    .map((c) => (c.column === c.field ? c.column : `${c.column} AS ${c.field}`))
    .join(", ")

const notEsg = (path: string, why: string): Error =>
  new Error(`${path} is not an esg-aggregator database (${why})`)

/**
 * Opens the database at `path` read-only and checks it holds a universe of
 * the current schema version. Throws an `Error` with a user-facing message
 * when the file is missing or is not such a database.
 */
export const openUniverseDb = (path: string): UniverseDb => {
  if (!fs.existsSync(path)) throw new Error(`database not found: ${path}`)
  const db = new Database(path, { readonly: true, fileMustExist: true })
  const checked = Either.try(() => {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'")
      .all()
      .map((row) => row.name)
    for (const table of ["companies", "metadata"]) {
      if (!tables.includes(table)) throw notEsg(path, `missing table ${table}`)
    }
    const version = db
      .prepare<[], { value: string }>("SELECT value FROM metadata WHERE key = 'schema_version'")
      .get()?.value
    if (version !== String(SCHEMA_VERSION)) {
      throw notEsg(path, `schema version ${version ?? "missing"}, expected ${SCHEMA_VERSION}`)
    }
  })
  if (Either.isLeft(checked)) {
    db.close()
    const cause = checked.left
    // better-sqlite3 opens lazily: a file that is not SQLite at all fails
    // only here, with SQLITE_NOTADB.
    throw cause instanceof Database.SqliteError ? notEsg(path, cause.message) : cause
  }

  const fundamentalsByTicker = db.prepare<[string], FundamentalsRow>(
    `SELECT ${selectAs(Object.keys(Fundamentals.fields))} FROM companies WHERE ticker = ?`
  )
  const allCompanies = db.prepare<[], CompanyRow>(
    `SELECT ${selectAs(columns.map((c) => c.field))} FROM companies ORDER BY rowid`
  )
  const allEntries = db.prepare<[], { ticker: string; name: string }>(
    "SELECT ticker, name FROM companies ORDER BY rowid"
  )
  const allMetadata = db.prepare<[], { key: string; value: string }>(
    "SELECT key, value FROM metadata ORDER BY key"
  )

  return {
    fundamentals: (ticker) => {
      const row = fundamentalsByTicker.get(ticker)
      return row === undefined ? undefined : new Fundamentals(row)
    },
    records: () => allCompanies.all().map((row) => new CompanyRecord(row)),
    directoryEntries: () => allEntries.all().map((row) => ({ ticker: Ticker.make(row.ticker), name: row.name })),
    metadata: () => Object.fromEntries(allMetadata.all().map((row) => [row.key, row.value])),
    close: () => db.close()
  }
}

// ---------------------------------------------------------------------------
// CSV (RFC 4180)
// ---------------------------------------------------------------------------

const quoteField = (value: string): string =>
  /[",\r\n]/.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value

/**
 * Serialises records as CSV under `CSV_HEADER`, quoting per RFC 4180. Lines
 * end in LF (not the RFC's CRLF) to keep the committed file diff-friendly;
 * `parseCsv` reads both. Numbers use the shortest round-trip form.
 */
export const toCsv = (records: ReadonlyArray<CompanyRecord>): string =>
  [CSV_HEADER, ...records.map((r) => columns.map((c) => quoteField(String(r[c.field]))).join(","))]
    .map((line) => `${line}\n`)
    .join("")

interface CsvRow {
  /** 1-based line on which the row starts (a quoted field may span lines). */
  readonly line: number
  readonly fields: ReadonlyArray<string>
}

const csvError = (source: string | undefined, line: number, message: string): Error =>
  new Error(`${source === undefined ? "" : `${source}: `}line ${line}: ${message}`)

/** Splits RFC 4180 text into rows of raw fields, skipping empty lines. */
const splitCsv = (text: string, source: string | undefined): ReadonlyArray<CsvRow> => {
  const rows: Array<CsvRow> = []
  let fields: Array<string> = []
  let field = ""
  let line = 1
  let rowLine = 1
  let i = text.startsWith("\uFEFF") ? 1 : 0
  const endRow = () => {
    fields.push(field)
    if (fields.length > 1 || field !== "") rows.push({ line: rowLine, fields })
    fields = []
    field = ""
  }
  while (i < text.length) {
    const ch = text[i]!
    if (ch === "\"" && field === "") {
      const start = line
      i++
      for (;;) {
        if (i >= text.length) throw csvError(source, start, "unterminated quoted field")
        const q = text[i]!
        if (q === "\"") {
          if (text[i + 1] === "\"") {
            field += "\""
            i += 2
            continue
          }
          i++
          break
        }
        if (q === "\n") line++
        field += q
        i++
      }
      const next = text[i]
      if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") {
        throw csvError(source, line, "unexpected character after a closing quote")
      }
    } else if (ch === ",") {
      fields.push(field)
      field = ""
      i++
    } else if (ch === "\r" || ch === "\n") {
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1
      endRow()
      line++
      rowLine = line
    } else if (ch === "\"") {
      throw csvError(source, line, "a quote inside an unquoted field (quote the whole field and double the quote)")
    } else {
      field += ch
      i++
    }
  }
  if (fields.length > 0 || field !== "") endRow()
  return rows
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

// ---------------------------------------------------------------------------
// Blocking
// ---------------------------------------------------------------------------

const parked = new Int32Array(new SharedArrayBuffer(4))

/**
 * Blocks the current thread for `millis` milliseconds: a real wait, not a
 * timer. Emulates a blocking database call inside a worker; on the main
 * thread it would freeze the event loop, which is the point it demonstrates.
 */
export const blockFor = (millis: number): void => {
  if (!Number.isFinite(millis) || millis < 0) {
    throw new RangeError(`blockFor needs a finite, non-negative duration, got ${millis}`)
  }
  // Nothing ever notifies `parked`, so each wait ends by timeout; the loop
  // only guards against a timer that fires a little early.
  const deadline = performance.now() + millis
  for (let left = millis; left > 0; left = deadline - performance.now()) {
    Atomics.wait(parked, 0, 0, left)
  }
}
