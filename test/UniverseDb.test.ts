import { assert, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import { Either } from "effect"
import { afterEach, beforeEach } from "vitest"
import { CompanyRecord, FundamentalsData, Ticker } from "../src/Domain.js"
import { nameKey } from "../src/universe/CompanyDirectory.js"
import { CSV_HEADER, parseCsv, streamCsv, toCsv } from "../src/universe/Csv.js"
import { createDatabase, openUniverseDb, SCHEMA_SQL } from "../src/universe/Database.js"
import { generateUniverse, sampleUniverse as makeSample, UNIVERSE_SEED } from "../src/universe/SampleUniverse.js"
import { blockFor } from "../src/worker/Block.js"

const sampleUniverse = makeSample()

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

let dir = ""
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "universe-db-"))
})
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const records = generateUniverse({ seed: 7, size: 40 })
const metadata = { synthetic: "true", source: "test" }

const freshDb = (rs: ReadonlyArray<CompanyRecord> = records): string => {
  const file = path.join(dir, "universe.db")
  createDatabase(file, rs, metadata)
  return file
}

/** What a thrown error says, or fails the test when nothing is thrown. */
const thrownMessage = (f: () => unknown): string => {
  const result = Either.try(f)
  if (Either.isRight(result)) return assert.fail("expected an error, but nothing was thrown")
  return result.left instanceof Error ? result.left.message : String(result.left)
}

const csvLines = (rs: ReadonlyArray<CompanyRecord>): Array<string> => toCsv(rs).trimEnd().split("\n")

describe("UniverseDb", () => {
  it("round-trips records through a real SQLite file", () => {
    const file = freshDb()
    const db = openUniverseDb(file)
    const apple = records[0]!
    assert.strictEqual(apple.ticker, "AAPL")
    assert.deepStrictEqual(
      db.fundamentals(Ticker.make("AAPL")),
      new FundamentalsData({
        ticker: apple.ticker,
        name: apple.name,
        sector: apple.sector,
        marketCapUsd: apple.marketCapUsd,
        revenueUsdM: apple.revenueUsdM
      })
    )
    assert.strictEqual(db.fundamentals(Ticker.make("NOPE")), undefined)
    assert.deepStrictEqual(db.records(), records)
    assert.deepStrictEqual(db.record(Ticker.make("AAPL")), apple)
    assert.strictEqual(db.record(Ticker.make("NOPE")), undefined)
    assert.strictEqual(db.size(), records.length)
    // every company, page by page, in the order written
    const paged = [0, 16, 32].flatMap((after) => db.tickers(after, 16))
    assert.deepStrictEqual(paged, records.map((r) => r.ticker))
    assert.deepStrictEqual(db.tickers(records.length, 16), [])
    const longest = records.reduce((most, r) => Math.max(most, nameKey(r.name).length), 0)
    assert.deepStrictEqual(db.metadata(), {
      companies: String(records.length),
      longest_name_key: String(longest),
      schema_version: "2",
      source: "test",
      synthetic: "true"
    })
    db.close()
    assert.deepStrictEqual(fs.readdirSync(dir), ["universe.db"])
  })

  it("replaces an existing file and leaves no temporary file behind", () => {
    const file = freshDb()
    createDatabase(file, records.slice(0, 3), metadata)
    const db = openUniverseDb(file)
    assert.deepStrictEqual(db.records(), records.slice(0, 3))
    db.close()
    assert.deepStrictEqual(fs.readdirSync(dir), ["universe.db"])
  })

  it("keeps the old file when writing fails", () => {
    const file = freshDb()
    const duplicate = [...records.slice(0, 3), records[0]!]
    assert.strictEqual(thrownMessage(() => createDatabase(file, duplicate, metadata)), "name: duplicate \"Apple Inc.\" (first in row 1)")
    assert.deepStrictEqual(fs.readdirSync(dir), ["universe.db"])
    const db = openUniverseDb(file)
    assert.deepStrictEqual(db.records(), records)
    db.close()
  })

  it("writes the same bytes for the same input", () => {
    const a = path.join(dir, "a.db")
    const b = path.join(dir, "b.db")
    createDatabase(a, records, metadata)
    createDatabase(b, records, metadata)
    assert.isTrue(fs.readFileSync(a).equals(fs.readFileSync(b)))
  })

  it("opens the file read-only", () => {
    const file = freshDb()
    const before = fs.readFileSync(file)
    const db = openUniverseDb(file)
    db.records()
    db.fundamentals(Ticker.make("MSFT"))
    db.close()
    assert.isTrue(fs.readFileSync(file).equals(before))

    const readonly = new Database(file, { readonly: true })
    assert.match(
      thrownMessage(() => readonly.prepare("DELETE FROM companies").run()),
      /readonly/
    )
    readonly.close()
  })

  it("says clearly when the file is missing", () => {
    const file = path.join(dir, "missing.db")
    assert.strictEqual(thrownMessage(() => openUniverseDb(file)), `database not found: ${file}`)
    // and does not create it
    assert.isFalse(fs.existsSync(file))
  })

  it("says clearly when the file is not an esg-aggregator database", () => {
    const other = path.join(dir, "other.db")
    const db = new Database(other)
    db.exec("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    db.close()
    assert.strictEqual(
      thrownMessage(() => openUniverseDb(other)),
      `${other} is not an esg-aggregator database (missing table companies)`
    )

    const text = path.join(dir, "notes.db")
    fs.writeFileSync(text, "this is not sqlite, just some text long enough to fill a header page ".repeat(20))
    assert.strictEqual(
      thrownMessage(() => openUniverseDb(text)),
      `${text} is not an esg-aggregator database (file is not a database)`
    )

    const future = path.join(dir, "future.db")
    const fdb = new Database(future)
    fdb.exec(SCHEMA_SQL)
    fdb.prepare("INSERT INTO metadata (key, value) VALUES ('schema_version', '3')").run()
    fdb.close()
    assert.strictEqual(
      thrownMessage(() => openUniverseDb(future)),
      `${future} is not an esg-aggregator database (schema version 3, expected 2)`
    )
  })

  it("refuses a database of the first schema, saying how to build it again", () => {
    const older = path.join(dir, "older.db")
    const odb = new Database(older)
    odb.exec("CREATE TABLE companies (ticker TEXT PRIMARY KEY); CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT)")
    odb.prepare("INSERT INTO metadata (key, value) VALUES ('schema_version', '1')").run()
    odb.close()
    assert.strictEqual(
      thrownMessage(() => openUniverseDb(older)),
      `${older} was built by an older esg-aggregator (database schema 1, this one reads 2): build it again from its CSV with \`esg-aggregator import FILE.csv --db ${older}\``
    )
  })

  it("enforces the schema's checks", () => {
    const file = path.join(dir, "checks.db")
    const db = new Database(file)
    db.exec(SCHEMA_SQL)
    const insert = db.prepare(
      `INSERT INTO companies (ticker, name, sector, market_cap_usd, revenue_usd_m, scope1_tco2e,
         scope2_tco2e, uncertainty_pct, reporting_year, governance_score, name_key)
       VALUES (?, ?, ?, 1, ?, 1, 1, 5, 2024, 5, '')`
    )
    insert.run("OK", "Ok Corp", "Energy", 1)
    assert.match(thrownMessage(() => insert.run("BAD", "Bad Corp", "Crypto", 1)), /CHECK constraint failed/)
    assert.match(thrownMessage(() => insert.run("ZERO", "Zero Corp", "Energy", 0)), /CHECK constraint failed/)
    assert.match(thrownMessage(() => insert.run("DUP", "Ok Corp", "Energy", 1)), /UNIQUE constraint failed/)
    assert.strictEqual(
      db.prepare<[], { d: string }>("SELECT governance_deductions AS d FROM companies").get()?.d,
      ""
    )
    db.close()
  })
})

describe("UniverseDb CSV", () => {
  it("round-trips records, quoting names with commas", () => {
    const csv = toCsv(sampleUniverse)
    assert.strictEqual(csv.split("\n")[0], CSV_HEADER)
    assert.include(csv, "\nMETA,\"Meta Platforms, Inc.\",Communication Services,")
    assert.deepStrictEqual(parseCsv(csv), sampleUniverse)
  })

  it("round-trips quotes, CRLF line endings, a BOM and a line break inside a field", () => {
    const tricky = new CompanyRecord({ ...records[0]!, name: "The \"Quoted\"\nCompany, Ltd" })
    const csv = toCsv([tricky, records[1]!])
    assert.deepStrictEqual(parseCsv(csv), [tricky, records[1]!])
    const plain = records.slice(0, 2)
    assert.deepStrictEqual(parseCsv(`\uFEFF${toCsv(plain).replaceAll("\n", "\r\n")}`), plain)
    // a header from one tool, rows from another: LF then CRLF
    const [header, ...rows] = toCsv(plain).trimEnd().split("\n")
    assert.deepStrictEqual(parseCsv(`${header}\n${rows.join("\r\n")}\r\n`), plain)
    // The line break inside the quoted name moves the next row to line 4.
    const bad = csv.replace(`\n${records[1]!.ticker},`, "\nlower,")
    assert.match(thrownMessage(() => parseCsv(bad)), /^line 4: ticker: /)
  })

  it("rejects a bad row with the line number and the column", () => {
    const lines = csvLines(records.slice(0, 8))
    const withRow = (i: number, row: string) => [...lines.slice(0, i), row, ...lines.slice(i + 1)].join("\n")
    // a synthetic row: no commas inside its name, so split(",") gives its cells
    const cells = lines[6]!.split(",")
    assert.strictEqual(cells.length, 11)
    const withCell = (column: number, value: string) =>
      withRow(6, cells.map((c, i) => (i === column ? value : c)).join(","))

    assert.strictEqual(
      thrownMessage(() => parseCsv(withCell(4, "-5"), { source: "data/universe.csv" })),
      "data/universe.csv: line 7: revenue_usd_m: Expected a positive number, actual -5"
    )
    assert.strictEqual(thrownMessage(() => parseCsv(withCell(3, ""))), "line 7: market_cap_usd: expected a number, found \"\"")
    assert.strictEqual(thrownMessage(() => parseCsv(withCell(3, "12abc"))), "line 7: market_cap_usd: expected a number, found \"12abc\"")
    assert.strictEqual(thrownMessage(() => parseCsv(withCell(3, "0x10"))), "line 7: market_cap_usd: expected a number, found \"0x10\"")
    assert.strictEqual(thrownMessage(() => parseCsv(withCell(8, "2024.5"))), "line 7: reporting_year: Expected an integer, actual 2024.5")
    assert.match(thrownMessage(() => parseCsv(withCell(2, "Crypto"))), /^line 7: sector: Expected one of "Energy" \| .* \| "Real Estate", actual "Crypto"$/)
    assert.strictEqual(thrownMessage(() => parseCsv(withRow(6, "AB,Too Short"))), "line 7: expected 11 fields, found 2")
    assert.strictEqual(thrownMessage(() => parseCsv(withRow(7, lines[2]!))), `line 8: ticker: duplicate "${records[1]!.ticker}" (first on line 3)`)
    assert.strictEqual(thrownMessage(() => parseCsv(withRow(6, `"unterminated,${cells.slice(1).join(",")}`))), "line 7: unterminated quoted field")
    assert.strictEqual(thrownMessage(() => parseCsv(withRow(0, "ticker,name"))), `line 1: expected the header ${CSV_HEADER}, found ticker,name`)
    assert.strictEqual(thrownMessage(() => parseCsv("")), `line 1: empty file, expected the header ${CSV_HEADER}`)
  })

  it("the streamed reader of import refuses what the whole-file reader refuses, with the same words", async () => {
    const lines = csvLines(records.slice(0, 8))
    const cells = lines[6]!.split(",")
    const withCell = (column: number, value: string) =>
      [...lines.slice(0, 6), cells.map((c, i) => (i === column ? value : c)).join(","), ...lines.slice(7)].join("\n")
    const streamed = async (text: string): Promise<string> => {
      const rows = streamCsv(Readable.from([Buffer.from(text)]))
      return (async () => {
        for await (const _ of rows) void _
        return "accepted"
      })().catch((error: Error) => error.message)
    }
    const bad = [
      withCell(4, "-5"),
      withCell(4, "0"),
      withCell(3, "-1"),
      withCell(3, "12abc"),
      withCell(8, "2024.5"),
      withCell(8, "1900"),
      withCell(7, "101"),
      withCell(9, "11"),
      withCell(2, "Crypto"),
      withCell(0, "lower"),
      withCell(1, " padded "),
      withCell(10, "pay"),
      withCell(10, "pay:x;board:1"),
      [...lines.slice(0, 6), "AB,Too Short", ...lines.slice(7)].join("\n"),
      `${lines[0]}`.replace("ticker", "symbol")
    ]
    for (const text of bad) {
      const whole = thrownMessage(() => parseCsv(text))
      assert.notStrictEqual(whole, "", text)
      assert.strictEqual(await streamed(text), whole)
    }
    assert.strictEqual(await streamed(lines.join("\n")), "accepted")
  })

  it("the committed data/universe.csv is exactly the generated universe", () => {
    const committed = fs.readFileSync(path.join(root, "data", "universe.csv"), "utf8")
    assert.deepStrictEqual(
      parseCsv(committed, { source: "data/universe.csv" }),
      generateUniverse({ seed: UNIVERSE_SEED, size: 500 })
    )
    // byte for byte too, so regenerating the file never shows a spurious diff
    assert.strictEqual(committed, toCsv(generateUniverse({ seed: UNIVERSE_SEED, size: 500 })))
  })
})

describe("blockFor", () => {
  it("blocks the current thread", () => {
    const start = performance.now()
    blockFor(50)
    assert.isAtLeast(performance.now() - start, 45)
    assert.throws(() => blockFor(Number.POSITIVE_INFINITY), RangeError)
    assert.throws(() => blockFor(-1), RangeError)
  })
})
