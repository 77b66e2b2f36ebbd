/**
 * The embedded fundamentals database: a SQLite file holding the company
 * universe, read synchronously with better-sqlite3. It runs inside worker
 * threads, so everything here is plain synchronous code over light imports;
 * the Effect side (pool, timeouts, typed errors) lives with its caller.
 *
 * @since 0.1.0
 */
import Database from "better-sqlite3"
import { Either, Schema } from "effect"
import * as fs from "node:fs"
import type { DirectoryEntry } from "./CompanyDirectory.js"
import { CompanyRecord, FundamentalsData, sectors, Ticker } from "../Domain.js"

/** Bumped whenever `SCHEMA_SQL` changes shape; `openUniverseDb` refuses other versions. */
export const SCHEMA_VERSION = 1

// One table drives the CSV header, the SQL column names and the record
// fields, so the three cannot drift apart.
export const columns = [
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
    const encode = Schema.encodeSync(CompanyRecord)
    db.transaction(() => {
      for (const record of records) {
        const row = encode(record)
        insertCompany.run(Object.fromEntries(columns.map((c) => [c.field, row[c.field]])))
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
  fundamentals(ticker: Ticker): FundamentalsData | undefined
  /** Every company, in the order they were written. */
  records(): ReadonlyArray<CompanyRecord>
  /** Ticker and name of every company, for `makeDirectory`. */
  directoryEntries(): ReadonlyArray<DirectoryEntry>
  /** The metadata table (`schema_version`, `synthetic`, `source`, ...). */
  metadata(): Readonly<Record<string, string>>
  close(): void
}

type FundamentalsRow = ConstructorParameters<typeof FundamentalsData>[0]
type CompanyRow = typeof CompanyRecord.Encoded

// Aliasing columns to field names lets a row go straight into the class
// constructor or decoder, which validate it: a bad row is reported, never passed on.
const selectAs = (fields: ReadonlyArray<string>): string =>
  columns
    .filter((c) => fields.includes(c.field))
    .map((c) => (c.column === c.field ? c.column : `${c.column} AS ${c.field}`))
    .join(", ")

const decodeRecord = Schema.decodeUnknownSync(CompanyRecord)

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
    `SELECT ${selectAs(Object.keys(FundamentalsData.fields))} FROM companies WHERE ticker = ?`
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
      return row === undefined ? undefined : new FundamentalsData(row)
    },
    records: () => allCompanies.all().map((row) => decodeRecord(row)),
    directoryEntries: () => allEntries.all().map((row) => ({ ticker: Ticker.make(row.ticker), name: row.name })),
    metadata: () => Object.fromEntries(allMetadata.all().map((row) => [row.key, row.value])),
    close: () => db.close()
  }
}
