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
import { CompanyRecord, DeductionsFromText, FundamentalsData, type Sector, sectors, Ticker, type UnknownCompany } from "../Domain.js"
import { carbonIntensity, keptIntensities, type PeerStats, type SectorPeers, sectorPeers } from "../ScoreModel.js"
import { columns } from "./Columns.js"
import { candidatePrefix, type DirectoryEntry, leadingKeys, nameKey, resolveWith } from "./CompanyDirectory.js"

/** Bumped whenever `SCHEMA_SQL` changes shape; `openUniverseDb` refuses other versions, saying how to rebuild. */
export const SCHEMA_VERSION = 2

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`

/**
 * The database schema. STRICT tables make SQLite enforce the declared column
 * types instead of storing whatever it is given. Besides the companies, what
 * a run would otherwise compute from all of them at start, computed once as
 * the database is written: the keys names are looked up by
 * (`CompanyDirectory.ts`), and each sector's peer statistics
 * (`ScoreModel.ts`).
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
  governance_deductions TEXT NOT NULL DEFAULT '',
  name_key TEXT NOT NULL
) STRICT;
CREATE TABLE leading_keys (
  key TEXT NOT NULL,
  ticker TEXT NOT NULL,
  PRIMARY KEY (key, ticker)
) STRICT, WITHOUT ROWID;
CREATE TABLE sector_peers (
  sector TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  log_intensities BLOB NOT NULL,
  p5 REAL NOT NULL,
  p95 REAL NOT NULL
) STRICT;
CREATE TABLE metadata (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`

/** Indexes built once the rows are in: faster than keeping them up to date row by row. */
const INDEX_SQL = `CREATE INDEX companies_by_name_key ON companies (name_key);`

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

type CompanyRow = typeof CompanyRecord.Encoded

/** A universe being written: companies go in as they come; nothing is in place until `finish`. */
export interface UniverseWriter {
  /**
   * Adds one company (validated, in its encoded form). Throws an `Error`
   * naming a duplicate ticker or name and the line (or row) it first came
   * on; `line` is where this one comes from, for that message.
   */
  readonly add: (row: CompanyRow, line?: number) => void
  /** Writes what the database keeps besides the companies, and puts the file in place; the companies written. */
  readonly finish: (metadata: Readonly<Record<string, string>>) => number
  /** Drops what was written: the target is left as it was. */
  readonly abort: () => void
}

/** A growable column of numbers, per sector: what the peer statistics are computed from. */
class Column {
  values = new Float64Array(64)
  size = 0
  push(value: number) {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.size++] = value
  }
  get filled(): Float64Array {
    return this.values.subarray(0, this.size)
  }
}

/**
 * Opens a writer of a fresh universe database at `path`: built beside it,
 * in one transaction, and renamed into place by `finish`, so that readers
 * never see a half-written database and a failed import leaves the old one.
 * What it holds in memory grows by 20 bytes a company (the peers' figures
 * and where each came from), whatever the rows hold.
 */
export const openUniverseWriter = (path: string): UniverseWriter => {
  const tmp = `${path}.tmp`
  fs.rmSync(tmp, { force: true })
  const db = new Database(tmp)
  // a file no one reads until it is renamed into place: no journal, synced once at the end
  db.pragma("journal_mode = OFF")
  db.pragma("synchronous = OFF")
  db.exec(SCHEMA_SQL)
  db.exec("BEGIN")
  const insertCompany = db.prepare(
    `INSERT INTO companies (${columns.map((c) => c.column).join(", ")}, name_key)
     VALUES (${columns.map(() => "?").join(", ")}, ?)`
  )
  const insertKey = db.prepare("INSERT OR IGNORE INTO leading_keys (key, ticker) VALUES (?, ?)")
  const firstRowOf = {
    ticker: db.prepare<[string], { rowid: number }>("SELECT rowid FROM companies WHERE ticker = ?"),
    name: db.prepare<[string], { rowid: number }>("SELECT rowid FROM companies WHERE name = ?")
  }
  const intensities = new Map<Sector, Column>()
  const governance = new Map<Sector, Column>()
  const lines = new Column()
  let count = 0

  const duplicate = (row: CompanyRow, cause: unknown): Error => {
    const message = cause instanceof Error ? cause.message : String(cause)
    const key = /companies\.ticker/.test(message) ? "ticker" : /companies\.name/.test(message) ? "name" : undefined
    if (key === undefined) return cause instanceof Error ? cause : new Error(message)
    const first = firstRowOf[key].get(row[key])?.rowid
    const where = first === undefined ? "" : lines.filled[first - 1]! > 0 ? ` (first on line ${lines.filled[first - 1]})` : ` (first in row ${first})`
    return new Error(`${key}: duplicate ${JSON.stringify(row[key])}${where}`)
  }

  const close = () => {
    if (db.open) db.close()
  }
  const abort = () => {
    close()
    fs.rmSync(tmp, { force: true })
  }

  return {
    add: (row, line = 0) => {
      const inserted = Either.try({
        try: () => insertCompany.run([...columns.map((c) => row[c.field]), nameKey(row.name)]),
        catch: (cause) => duplicate(row, cause)
      })
      if (Either.isLeft(inserted)) throw inserted.left
      // the last leading key is the whole name's, which the companies' own index finds first
      const keys = leadingKeys(row.name)
      for (let k = 0; k < keys.length - 1; k++) insertKey.run(keys[k], row.ticker)
      const sector = row.sector
      if (!intensities.has(sector)) {
        intensities.set(sector, new Column())
        governance.set(sector, new Column())
      }
      intensities.get(sector)!.push(carbonIntensity(row.revenueUsdM, row))
      governance.get(sector)!.push(row.governanceScore)
      lines.push(line)
      count++
    },
    finish: (metadata) => {
      const finished = Either.try(() => {
        const insertPeers = db.prepare(
          "INSERT INTO sector_peers (sector, count, log_intensities, p5, p95) VALUES (?, ?, ?, ?, ?)"
        )
        for (const [sector, column] of [...intensities].sort(([a], [b]) => a.localeCompare(b))) {
          const peers = sectorPeers(sector, column.filled, governance.get(sector)!.filled)
          const kept = keptIntensities(peers.logIntensities)
          insertPeers.run(sector, peers.count, Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength), peers.p5, peers.p95)
        }
        const longest = db.prepare<[], { longest: number | null }>("SELECT max(length(name_key)) AS longest FROM companies").get()
        const insertMetadata = db.prepare("INSERT INTO metadata (key, value) VALUES (?, ?)")
        const all = { ...metadata, schema_version: String(SCHEMA_VERSION), companies: String(count), longest_name_key: String(longest?.longest ?? 0) }
        for (const [key, value] of Object.entries(all).sort(([a], [b]) => a.localeCompare(b))) insertMetadata.run(key, value)
        db.exec(INDEX_SQL)
        db.exec("COMMIT")
        close()
        const fd = fs.openSync(tmp, "r+")
        fs.fsyncSync(fd)
        fs.closeSync(fd)
        fs.renameSync(tmp, path)
      })
      if (Either.isLeft(finished)) {
        abort()
        throw finished.left
      }
      return count
    },
    abort
  }
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
  const writer = openUniverseWriter(path)
  const encode = Schema.encodeSync(CompanyRecord)
  const written = Either.try(() => {
    for (const record of records) writer.add(encode(record))
  })
  if (Either.isLeft(written)) {
    writer.abort()
    throw written.left
  }
  writer.finish(metadata)
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/** A read-only handle on a universe database. Not thread-safe: one per thread. */
export interface UniverseDb {
  /** One company's fundamentals, `undefined` when the ticker is not in the database. */
  fundamentals(ticker: Ticker): FundamentalsData | undefined
  /** One company's whole record, `undefined` when the ticker is not in the database. */
  record(ticker: Ticker): CompanyRecord | undefined
  /** What a user typed, resolved through the name indexes (`CompanyDirectory.ts`'s rules). */
  resolve(input: string): Either.Either<Ticker, UnknownCompany>
  /** Every sector's peer statistics, as written with the companies. */
  peers(): PeerStats
  /** The companies in the universe. */
  size(): number
  /** Up to `limit` tickers after the `after`-th company, in the order they were written: every company, page by page. */
  tickers(after: number, limit: number): ReadonlyArray<Ticker>
  /** Every company, in the order they were written: for tools and tests, never at a run's start. */
  records(): ReadonlyArray<CompanyRecord>
  /** The metadata table (`schema_version`, `synthetic`, `source`, ...). */
  metadata(): Readonly<Record<string, string>>
  close(): void
}

type FundamentalsRow = ConstructorParameters<typeof FundamentalsData>[0]

// Aliasing columns to field names lets a row go straight into the class constructor.
const selectAs = (fields: ReadonlyArray<string>): string =>
  columns
    .filter((c) => fields.includes(c.field))
    .map((c) => (c.column === c.field ? c.column : `${c.column} AS ${c.field}`))
    .join(", ")

const decodeDeductions = Schema.decodeSync(DeductionsFromText)

/**
 * A record as the database holds it: every row was checked against
 * `CompanyRecord` when it was written (`import`, the build) and by the
 * table's checks, so it is built without checking it again, a lookup per
 * company call being on the hot path.
 */
const recordOf = (row: CompanyRow): CompanyRecord =>
  new CompanyRecord({
    ...row,
    ticker: row.ticker as Ticker,
    sector: shared(row.sector),
    governanceDeductions: deductionsOf(row.governanceDeductions)
  }, true)

/**
 * One copy of what many rows repeat (a sector's name, a list of
 * deductions), shared by the records read: a run over a whole universe
 * keeps a score per company, and each would otherwise hold copies of its
 * own. At most `SHARED_MOST` values are kept.
 */
const SHARED_MOST = 4096
const sharedValues = new Map<string, unknown>()
const sharedAs = <A>(key: string, make: () => A): A => {
  const known = sharedValues.get(key)
  if (known !== undefined) return known as A
  const value = make()
  if (sharedValues.size < SHARED_MOST) sharedValues.set(key, value)
  return value
}
const shared = <S extends string>(text: S): S => sharedAs(`text:${text}`, () => text)
const deductionsOf = (text: string) => sharedAs(`deductions:${text}`, () => decodeDeductions(text))

const notEsg = (path: string, why: string): Error =>
  new Error(`${path} is not an esg-aggregator database (${why})`)

/** The most suggestion candidates read for one unknown name, by ticker and by name each. */
const CANDIDATES = 50

/** The names (and tickers) read on each side of an unknown name in their order, for its suggestion. */
const NEIGHBOURS = 10

/**
 * Opens the database at `path` read-only and checks it holds a universe of
 * the current schema version. Throws an `Error` with a user-facing message
 * when the file is missing or is not such a database, or was built by an
 * older version (it says how to rebuild it). Opening reads nothing that grows
 * with the universe: statements are prepared, and each call reads the rows
 * it needs through an index.
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
    if (version !== undefined && Number(version) < SCHEMA_VERSION) {
      throw new Error(
        `${path} was built by an older esg-aggregator (database schema ${version}, this one reads ${SCHEMA_VERSION}): build it again from its CSV with \`esg-aggregator import FILE.csv --db ${path}\``
      )
    }
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

  // one shared lock held for the connection's life: a statement then costs no lock, no unlock and
  // no re-read of the header page, a third of a lookup's time (a reader never blocks the import,
  // which writes a new file and renames it into place)
  db.pragma("locking_mode = EXCLUSIVE")
  const fundamentalsByTicker = db.prepare<[string], FundamentalsRow>(
    `SELECT ${selectAs(Object.keys(FundamentalsData.fields))} FROM companies WHERE ticker = ?`
  )
  const recordByTicker = db.prepare<[string], CompanyRow>(
    `SELECT ${selectAs(columns.map((c) => c.field))} FROM companies WHERE ticker = ?`
  )
  const allCompanies = db.prepare<[], CompanyRow>(
    `SELECT ${selectAs(columns.map((c) => c.field))} FROM companies ORDER BY rowid`
  )
  const tickerOf = db.prepare<[string], { ticker: string }>("SELECT ticker FROM companies WHERE ticker = ?")
  const tickerByName = db.prepare<[string], { ticker: string }>("SELECT ticker FROM companies WHERE name_key = ? LIMIT 1")
  const tickersByLeadingWords = db.prepare<[string], { ticker: string }>("SELECT ticker FROM leading_keys WHERE key = ? LIMIT 2")
  // a suggestion's candidates: the first names and tickers that share the query's first two characters and,
  // when there are more of those, the query's neighbours in the order of names and of tickers (where a
  // typo near a name's end lands)
  const candidatesIn = (column: "ticker" | "name_key") => ({
    from: db.prepare<[string, string], DirectoryRow>(
      `SELECT ticker, name FROM companies WHERE ${column} >= ? AND ${column} < ? ORDER BY ${column} LIMIT ${CANDIDATES}`
    ),
    before: db.prepare<[string], DirectoryRow>(
      `SELECT ticker, name FROM companies WHERE ${column} < ? ORDER BY ${column} DESC LIMIT ${NEIGHBOURS}`
    ),
    after: db.prepare<[string], DirectoryRow>(
      `SELECT ticker, name FROM companies WHERE ${column} >= ? ORDER BY ${column} LIMIT ${NEIGHBOURS}`
    )
  })
  const candidatesBy = { ticker: candidatesIn("ticker"), name: candidatesIn("name_key") }
  const tickersAfter = db.prepare<[number, number], { ticker: string }>(
    "SELECT ticker FROM companies WHERE rowid > ? ORDER BY rowid LIMIT ?"
  )
  const allPeers = db.prepare<[], PeersRow>("SELECT sector, count, log_intensities, p5, p95 FROM sector_peers ORDER BY sector")
  const allMetadata = db.prepare<[], { key: string; value: string }>(
    "SELECT key, value FROM metadata ORDER BY key"
  )
  const companies = Number(db.prepare<[], { value: string }>("SELECT value FROM metadata WHERE key = 'companies'").get()?.value ?? 0)
  const entry = (row: DirectoryRow): DirectoryEntry => ({ ticker: row.ticker as Ticker, name: row.name })

  const resolve = resolveWith({
    byTicker: (ticker) => tickerOf.get(ticker)?.ticker as Ticker | undefined,
    byName: (key) => tickerByName.get(key)?.ticker as Ticker | undefined,
    byLeadingWords: (key) => {
      const found = tickersByLeadingWords.all(key)
      return found.length === 0 ? undefined : found.length > 1 ? "ambiguous" : found[0]!.ticker as Ticker
    },
    candidates: (query) => {
      const prefix = candidatePrefix(query)
      const found: Array<DirectoryEntry> = []
      for (const [by, key, start] of [["ticker", query.toUpperCase(), prefix.toUpperCase()], ["name", query, prefix]] as const) {
        const statements = candidatesBy[by]
        const sharing = statements.from.all(start, `${start}\uffff`)
        for (const row of sharing) found.push(entry(row))
        // the names sharing its first two characters were more than were read: the query's own neighbours too
        if (sharing.length === CANDIDATES) {
          for (const row of statements.before.all(key)) found.push(entry(row))
          for (const row of statements.after.all(key)) found.push(entry(row))
        }
      }
      return found
    }
  })

  return {
    fundamentals: (ticker) => {
      const row = fundamentalsByTicker.get(ticker)
      return row === undefined ? undefined : new FundamentalsData({ ...row, sector: shared(row.sector) }, true)
    },
    record: (ticker) => {
      const row = recordByTicker.get(ticker)
      return row === undefined ? undefined : recordOf(row)
    },
    resolve,
    peers: () =>
      new Map(allPeers.all().map((row): [Sector, SectorPeers] => [row.sector, {
        sector: row.sector,
        count: row.count,
        logIntensities: new Float64Array(row.log_intensities.buffer.slice(row.log_intensities.byteOffset, row.log_intensities.byteOffset + row.log_intensities.byteLength)),
        p5: row.p5,
        p95: row.p95
      }])),
    size: () => companies,
    tickers: (after, limit) => tickersAfter.all(after, limit).map((row) => row.ticker as Ticker),
    records: () => allCompanies.all().map(recordOf),
    metadata: () => Object.fromEntries(allMetadata.all().map((row) => [row.key, row.value])),
    close: () => db.close()
  }
}

interface DirectoryRow {
  readonly ticker: string
  readonly name: string
}

interface PeersRow {
  readonly sector: Sector
  readonly count: number
  readonly log_intensities: Buffer
  readonly p5: number
  readonly p95: number
}
