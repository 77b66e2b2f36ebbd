/**
 * A universe the size of the market: names resolved by index on a large
 * database, inputs of any length read as streams, unknown names and
 * duplicates summarized after the first twenty, a streamed import that is
 * atomic, and `--all` resumed from its cache after a stop.
 */
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Either, Fiber, Option, Schema, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Aggregator } from "../src/Aggregator.js"
import * as Cli from "../src/Cli.js"
import { Output } from "../src/cli/Output.js"
import { FIRST_LINE_BYTES, readCompanies } from "../src/cli/Inputs.js"
import { Shutdown, type StopSignal } from "../src/cli/Shutdown.js"
import { CompanyRecord } from "../src/Domain.js"
import { WARNINGS_SHOWN } from "../src/Intake.js"
import { CSV_HEADER, toCsv } from "../src/universe/Csv.js"
import { LONGEST_QUERY, makeDirectory, resolveWith } from "../src/universe/CompanyDirectory.js"
import { openUniverseDb, openUniverseWriter } from "../src/universe/Database.js"
import { recentRecords } from "../src/universe/Universe.js"
import { makeLogCapture, scenarioLayer, universe } from "./fixtures/Scenario.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-market-"))
const encode = Schema.encodeSync(CompanyRecord)

/** The sample's rows copied under new tickers and names, as a team's market universe is built in the bench. */
const copies = (n: number): Array<CompanyRecord> =>
  Array.from({ length: n }, (_, i) => {
    const record = universe[i % universe.length]!
    return new CompanyRecord({ ...record, ticker: `Z${String(i).padStart(5, "0")}` as CompanyRecord["ticker"], name: `Firm Z${i} Ltd` })
  })

const LARGE = 20_000
const large = copies(LARGE)
const largeDb = path.join(dir, "large.db")
{
  const writer = openUniverseWriter(largeDb)
  for (const record of large) writer.add(encode(record))
  writer.finish({ synthetic: "true" })
}

/** A stream of `text`, in chunks of at most `size` bytes, counting what was read of it. */
const chunked = (text: string | Buffer, size = 64 * 1024) => {
  const bytes = typeof text === "string" ? Buffer.from(text) : text
  const read = { bytes: 0 }
  async function* chunks() {
    for (let at = 0; at < bytes.length; at += size) {
      read.bytes += Math.min(size, bytes.length - at)
      yield bytes.subarray(at, at + size)
    }
  }
  return { stream: chunks(), read }
}

const refusal = (text: string | Buffer) =>
  readCompanies(chunked(text).stream, "f.txt").then(
    () => "read",
    (error: Error) => error.message
  )

describe("names resolved by index on a large universe", () => {
  const db = openUniverseDb(largeDb)
  const inMemory = makeDirectory(large)

  it("resolves every company by ticker and by name, as the in-memory directory does", () => {
    for (const record of large.filter((_, i) => i % 97 === 0)) {
      assert.deepStrictEqual(db.resolve(record.ticker.toLowerCase()), Either.right(record.ticker))
      assert.deepStrictEqual(db.resolve(` ${record.name.toUpperCase()} `), Either.right(record.ticker))
      assert.deepStrictEqual(db.resolve(record.name), inMemory.resolve(record.name))
    }
  })

  it("suggests the close name of a typo, from its own neighbourhood of the index", () => {
    const typo = db.resolve("Firm Z12345 Ltx")
    assert.strictEqual(Either.isLeft(typo) ? typo.left.suggestion : "resolved", "Firm Z12345 Ltd (Z12345)")
    // a ticker one character off: one of the tickers one edit away
    const ticker = db.resolve("Z0042x")
    assert.match(Either.isLeft(ticker) ? ticker.left.suggestion ?? "none" : "resolved", /^Firm Z42\d Ltd \(Z0042\d\)$/)
    // what the directory that compares with every name suggests
    for (const input of ["Firm Z777 Lt", "Firm Z19999 Ltdd", "Firm Z5000 Lt"]) {
      assert.deepStrictEqual(db.resolve(input), inMemory.resolve(input), input)
    }
  })

  it("reads at most one neighbourhood of candidates per unknown name, and none for a name longer than any", () => {
    let reads = 0
    const counted = resolveWith({
      byTicker: () => undefined,
      byName: () => undefined,
      byLeadingWords: () => undefined,
      candidates: () => {
        reads++
        return []
      }
    })
    counted("Firm Z1 Ltx")
    assert.strictEqual(reads, 1)
    const long = "A".repeat(LONGEST_QUERY + 1)
    const unknown = counted(long)
    assert.strictEqual(reads, 1)
    assert.isTrue(Either.isLeft(unknown) && unknown.left.suggestion === undefined)
    // on the database: a 10 MB name is unknown, with no suggestion
    const huge = db.resolve("A".repeat(10_000_000))
    assert.isTrue(Either.isLeft(huge) && huge.left.suggestion === undefined)
  })
})

describe("a company's record, read once for its three sources", () => {
  it("the last records read are kept, as many as a run has in flight and more, never more", () => {
    const reads: Array<string> = []
    const record = recentRecords((ticker) => {
      reads.push(ticker)
      return Option.fromNullable(large.find((r) => r.ticker === ticker))
    })
    const first = large[0]!.ticker
    for (let source = 0; source < 3; source++) assert.deepStrictEqual(record(first), Option.some(large[0]!))
    assert.deepStrictEqual(reads, [first])
    // 256 others read since: the first is read again, and nothing beyond the bound is kept
    for (const other of large.slice(1, 257)) record(other.ticker)
    record(first)
    assert.strictEqual(reads.filter((ticker) => ticker === first).length, 2)
  })
})

describe("inputs of any length", () => {
  it("reads a file of 1,000,000 lines, every one of them", async () => {
      const lines = Array.from({ length: 1_000_000 }, (_, i) => `QX${i}`)
      const { read, stream } = chunked(`${lines.join("\n")}\n`)
      const companies = await readCompanies(stream, "big.txt")
      assert.strictEqual(companies.length, 1_000_000)
      assert.strictEqual(companies[0], "QX0")
      assert.strictEqual(companies[999_999], "QX999999")
      assert.isAbove(read.bytes, 7_000_000)
  })

  it("reads a CSV of 200,000 rows by its ticker column", async () => {
      const rows = Array.from({ length: 200_000 }, (_, i) => `${i},QX${i},"note, ${i}"`)
      const companies = await readCompanies(chunked(`weight,ticker,note\n${rows.join("\r\n")}\r\n`).stream, "big.csv")
      assert.strictEqual(companies.length, 200_000)
      assert.strictEqual(companies[199_999], "QX199999")
  })

  it("refuses what is not text, naming the file and why, having read no more than the first megabyte", async () => {
      assert.strictEqual(await refusal(Buffer.from("AAPL\nMS\0FT\n")), "f.txt is not a text file (a NUL byte at byte 7)")
      const oneLine = chunked("A".repeat(10_000_000))
      const message = await readCompanies(oneLine.stream, "f.txt").then(() => "read", (error: Error) => error.message)
      assert.strictEqual(message, "f.txt is not a list of companies (no line break in its first megabyte)")
      assert.isAtMost(oneLine.read.bytes, FIRST_LINE_BYTES + 64 * 1024)
      // a long first line that does break within the megabyte is a list
      assert.strictEqual(await refusal(`${"A".repeat(FIRST_LINE_BYTES - 10)}\nAAPL\n`), "read")
  })
})

describe("unknown names and duplicates summarized", () => {
  it.effect(`the first ${WARNINGS_SHOWN} of each one by one, then one line with the count; every unknown name is in the report`, () =>
    Effect.gen(function*() {
      const logs = yield* makeLogCapture
      const unknown = Array.from({ length: 1234 }, (_, i) => `Nonexistent ${i}`)
      const duplicates = Array.from({ length: WARNINGS_SHOWN + 3 }, () => "aapl")
      const aggregator = yield* Aggregator
      const fiber = yield* Effect.fork(aggregator.run(["Apple", ...unknown, ...duplicates]).pipe(Effect.provide(logs.layer)))
      yield* TestClock.adjust("10 seconds")
      const report = yield* Fiber.join(fiber)
      assert.deepStrictEqual(report.outcomes.slice(1).map((o) => o.input), unknown)
      assert.isTrue(report.outcomes.slice(1).every((o) => o._tag === "Skipped"))
      const warnings = (yield* logs.entries).map((e) => e.message)
      assert.deepStrictEqual(warnings.filter((m) => m === "Unknown company").length, WARNINGS_SHOWN)
      assert.deepStrictEqual(warnings.filter((m) => m === "Duplicate company ignored").length, WARNINGS_SHOWN)
      assert.includeMembers(warnings, [
        `and 1,214 more companies not in the universe; all are in the report`,
        "and 3 more duplicate companies ignored"
      ])
      assert.isBelow(warnings.length, 2 * WARNINGS_SHOWN + 5)
    }).pipe(Effect.provide(scenarioLayer())))

  it.effect("no summary line when there is nothing beyond the first twenty", () =>
    Effect.gen(function*() {
      const logs = yield* makeLogCapture
      const aggregator = yield* Aggregator
      const unknown = Array.from({ length: WARNINGS_SHOWN }, (_, i) => `Nonexistent ${i}`)
      const fiber = yield* Effect.fork(aggregator.run(unknown).pipe(Effect.provide(logs.layer)))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      const warnings = (yield* logs.entries).map((e) => e.message)
      assert.deepStrictEqual(warnings, Array.from({ length: WARNINGS_SHOWN }, () => "Unknown company"))
    }).pipe(Effect.provide(scenarioLayer())))
})

/** Runs the CLI in-process (live clock, real files); stdout, stderr and the exit code. */
const runCliLive = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { captured, output } = yield* Output.makeCapture()
    const code = yield* Cli.run(["node", "esg-aggregator", ...args]).pipe(Effect.provideService(Output, output))
    return { code, ...(yield* captured) }
  }).pipe(Effect.provide(NodeContext.layer))

describe("import streams", () => {
  const rows = copies(30_000)
  const csvOf = (records: ReadonlyArray<CompanyRecord>) => toCsv(records)
  const goodCsv = path.join(dir, "good.csv")
  fs.writeFileSync(goodCsv, csvOf(rows))

  it.live("imports 30,000 rows, every one readable by ticker and name", () =>
    Effect.gen(function*() {
      const db = path.join(dir, "imported.db")
      const { code, stdout } = yield* runCliLive(["import", goodCsv, "--db", db])
      assert.strictEqual(code, Cli.ExitCode.ok)
      assert.strictEqual(stdout, `imported 30000 companies into ${db}\n`)
      const opened = openUniverseDb(db)
      assert.strictEqual(opened.size(), 30_000)
      for (const record of [rows[0]!, rows[12_345]!, rows[29_999]!]) {
        assert.deepStrictEqual(opened.record(record.ticker), record)
        assert.deepStrictEqual(opened.resolve(record.name), Either.right(record.ticker))
      }
      opened.close()
    }))

  it.live("a bad row deep in the file, or a duplicate, names its line; the database that was there is untouched", () =>
    Effect.gen(function*() {
      const db = path.join(dir, "kept.db")
      fs.copyFileSync(largeDb, db)
      const before = fs.readFileSync(db)
      const lines = csvOf(rows).trimEnd().split("\n")
      const cells = lines[25_000]!.split(",")
      cells[4] = "-5"
      const bad = path.join(dir, "bad.csv")
      fs.writeFileSync(bad, [...lines.slice(0, 25_000), cells.join(","), ...lines.slice(25_001)].join("\n"))
      const refused = yield* runCliLive(["import", bad, "--db", db])
      assert.strictEqual(refused.code, Cli.ExitCode.usage)
      assert.match(refused.stderr, new RegExp(`^esg-aggregator import: ${bad}: line 25001: revenue_usd_m: .+\\n$`))

      const duplicate = path.join(dir, "duplicate.csv")
      fs.writeFileSync(duplicate, [...lines, lines[2]!.replace(/^Z00001,/, "Q00001,")].join("\n"))
      const twice = yield* runCliLive(["import", duplicate, "--db", db])
      assert.strictEqual(twice.code, Cli.ExitCode.usage)
      assert.strictEqual(twice.stderr, `esg-aggregator import: name: duplicate "Firm Z1 Ltd" (first on line 3)\n`)

      assert.isTrue(fs.readFileSync(db).equals(before))
      assert.deepStrictEqual(fs.readdirSync(dir).filter((name) => name.endsWith(".tmp")), [])
      assert.strictEqual(lines[0], CSV_HEADER)
    }))
})

describe("--all", () => {
  /** A stop requested by `signal` once `at` of virtual time has passed. */
  const stopAt = (at: Duration.DurationInput, signal: StopSignal) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const stop = yield* Deferred.make<StopSignal>()
      yield* Effect.forkDaemon(Effect.zipRight(Effect.sleep(at), Deferred.succeed(stop, signal)))
      return yield* Effect.provideService(effect, Shutdown, Shutdown.of({ requested: Deferred.await(stop) }))
    })

  /** The CLI in virtual time, advanced far enough for the sample universe at these latencies. */
  const runAll = (args: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const { captured, output } = yield* Output.makeCapture()
      const fiber = yield* Effect.fork(
        Cli.run([
          "node",
          "esg-aggregator",
          "--all",
          "--in-process",
          "--samples",
          "0",
          "--db-latency",
          "0",
          "--latency-emissions",
          "100ms",
          "--latency-governance",
          "100ms",
          ...args
        ]).pipe(Effect.provideService(Output, output))
      )
      yield* TestClock.adjust("200 seconds")
      return { code: yield* Fiber.join(fiber), ...(yield* captured) }
    }).pipe(Effect.provide(NodeContext.layer))

  it.effect("scores every company of the universe, a line each as it completes", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runAll(["--format", "ndjson", "--no-cache"])
      assert.strictEqual(code, Cli.ExitCode.ok)
      const lines = stdout.trimEnd().split("\n").map((line) => JSON.parse(line))
      const companies = lines.slice(0, -1)
      assert.deepStrictEqual(new Set(companies.map((c) => c.ticker)), new Set(universe.map((r) => r.ticker)))
      assert.strictEqual(companies.length, universe.length)
      assert.isTrue(companies.every((c) => c.status === "scored"))
      assert.strictEqual(lines.at(-1).summary.requested, universe.length)
    }))

  it.effect("stopped, then run again on its cache: what was scored is not fetched again, company by company", () =>
    Effect.gen(function*() {
      const cache = path.join(dir, "all-cache.db")
      const first = yield* runAll(["--format", "ndjson", "--cache", cache]).pipe(stopAt("20 seconds", "SIGINT"))
      assert.strictEqual(first.code, 130)
      const scoredFirst = first.stdout.trimEnd().split("\n").map((line) => JSON.parse(line))
        .filter((line) => line.status === "scored").map((line) => line.ticker as string)
      assert.isAbove(scoredFirst.length, 50)
      assert.isBelow(scoredFirst.length, universe.length)
      const again = yield* runAll(["--format", "json", "--cache", cache])
      assert.strictEqual(again.code, Cli.ExitCode.ok)
      const report = JSON.parse(again.stdout)
      const cachedNow = new Set<string>(
        report.companies.filter((c: { cachedAt?: string }) => c.cachedAt !== undefined).map((c: { ticker: string }) => c.ticker)
      )
      assert.deepStrictEqual(cachedNow, new Set(scoredFirst))
      assert.strictEqual(report.summary.scored, universe.length)
      assert.strictEqual(report.summary.apiCalls, 2 * (universe.length - scoredFirst.length))
    }))

  it.effect("with companies or --input it is a usage error", () =>
    Effect.gen(function*() {
      const { code, stderr } = yield* runAll(["AAPL", "--no-cache"])
      assert.strictEqual(code, Cli.ExitCode.usage)
      assert.strictEqual(stderr, "esg-aggregator: --all scores the whole universe: give it without companies or --input (see --help)\n")
    }))
})
