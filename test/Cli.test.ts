import { NodeContext } from "@effect/platform-node"
import { parse } from "csv-parse/sync"
import { assert, describe, it } from "@effect/vitest"
import { CliConfig, Command, HelpDoc } from "@effect/cli"
import { Deferred, Duration, Effect, Fiber, Logger, Option, TestClock } from "effect"
import * as Cli from "../src/Cli.js"
import { durationText, parseDuration } from "../src/internal/DurationText.js"
import { toCsv } from "../src/universe/Csv.js"
import { CompanyRecord } from "../src/Domain.js"
import { universe } from "./fixtures/Scenario.js"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { colorAllowed, Output, statusLine } from "../src/cli/Output.js"
import { ProviderServer } from "../src/provider-server/ProviderServer.js"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import { poolSizes } from "../src/cli/App.js"
import { Bounds, cores } from "../src/cli/Flags.js"
import { helpText } from "../src/cli/Help.js"
import { etaMs, progressLine } from "../src/cli/Progress.js"
import { Shutdown, type StopSignal } from "../src/cli/Shutdown.js"
import { importCommand } from "../src/cli/ImportCommand.js"
import { reportCommand } from "../src/cli/ReportCommand.js"
import { serveCommand } from "../src/cli/ServeCommand.js"

/**
 * Runs the CLI in-process with `args` (as typed after the program name), in
 * virtual time: `--in-process` keeps the database and the scorer on this
 * thread so that TestClock governs every latency.
 */
/** Runs without the persistent cache, unless the test names one: a run must not meet another's scores. */
const noCache = (args: ReadonlyArray<string>) =>
  args.includes("--cache") || args[0] === "import" || args[0] === "serve-providers" ? [] : ["--no-cache"]

/**
 * Returns once `fiber` waits on the clock (or has ended): a file is read
 * with real I/O before the run starts, and the clock must not move before.
 * Bounded: a thousand turns of the event loop.
 */
const untilWaitingOnTheClock = (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
  Effect.gen(function*() {
    for (let turn = 0; turn < 1000; turn++) {
      if (fiber.unsafePoll() !== null || (yield* TestClock.sleeps()).length > 0) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
  })

const runCli = (
  args: ReadonlyArray<string>,
  advance: Duration.DurationInput = "60 seconds",
  terminal: { readonly stdoutColor?: boolean; readonly stderrIsTerminal?: boolean; readonly stderrColumns?: number } = {}
) =>
  Effect.gen(function*() {
    const { captured, output } = yield* Output.makeCapture(terminal)
    const fiber = yield* Effect.fork(
      Cli.run(["node", "esg-aggregator", ...args, "--in-process", "--samples", "2000", ...noCache(args)]).pipe(
        Effect.provideService(Output, output)
      )
    )
    yield* untilWaitingOnTheClock(fiber)
    yield* TestClock.adjust(advance)
    const code = yield* Fiber.join(fiber)
    return { code, ...(yield* captured) }
  }).pipe(Effect.provide(NodeContext.layer))

const usageErrors: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
  [["--api-concurrency", "0"], /--api-concurrency: expected a whole number from 1 to 64, got '0'/],
  [["--api-concurrency", "two"], /--api-concurrency: expected a whole number from 1 to 64, got 'two'/],
  [["--api-concurrency", "1.5"], /--api-concurrency: expected a whole number from 1 to 64, got '1.5'/],
  [["--api-concurrency", "99999999"], /--api-concurrency: expected a whole number from 1 to 64, got '99999999'/],
  [["--workers", String(Bounds.workers + 1)], new RegExp(`--workers: expected a whole number from 1 to ${Bounds.workers}`)],
  [["--db-workers", "17"], /--db-workers: expected a whole number from 1 to 16, got '17'/],
  [["--samples", "10000001"], /--samples: expected a whole number from 0 to 10000000/],
  [["--seed", "-1"], /--seed: expected a whole number from 0 to 4294967295, got '-1'/],
  [["--timeout", "61m"], /--timeout: at most 1h, got '61m'/],
  [["--log-level", "loud"], /--log-level: expected one of all, trace, debug, info, warning, error, fatal, none, got 'loud'/],
  [["--format", "json", "--log-level"], /--log-level: expected one of .*, got nothing/],
  [["--wizard"], /--wizard is not offered/],
  [["--timeout", "2x"], /--timeout: expected a duration/],
  [["--timeout", "0s"], /--timeout: must be longer than 0/],
  [["--format", "xml"], /table, json/],
  [["--schedule", "lifo"], /fifo, eager/],
  [["--no-such-flag"], /Unknown option: --no-such-flag/],
  [["--store", "postgres://analyst:p@ss@db.example:5432/esg"], /--store: the URL cannot be read: .*percent-encoded \(@ is %40/],
  [["Apple", "--latency-emissions", "fast"], /--latency-emissions: expected a duration/]
]

describe("Cli", () => {
  it.effect("prints the seed report as exactly one JSON document, all scored in 5.6 s", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runCli(["--format", "json"])
      assert.strictEqual(code, Cli.ExitCode.ok)
      assert.strictEqual(stderr, "")
      const report = JSON.parse(stdout)
      assert.deepStrictEqual(report.companies.map((c: { ticker: string }) => c.ticker), ["AAPL", "MSFT", "META", "AMZN", "TSLA"])
      assert.isTrue(report.companies.every((c: { status: string }) => c.status === "scored"))
      const apple = report.companies[0]
      assert.deepStrictEqual(Object.keys(apple.score).sort(), [
        "environmental",
        "governance",
        "interval",
        "rating",
        "samples",
        "stability",
        "value",
        "weightedAverage",
        "weights"
      ])
      assert.strictEqual(apple.name, "Apple Inc.")
      assert.strictEqual(typeof apple.marketCapUsd, "number")
      assert.deepStrictEqual(
        { ...report.summary, sources: undefined },
        {
          requested: 5,
          scored: 5,
          skipped: 0,
          cacheSize: 5,
          elapsedMs: 5600,
          apiCalls: 10,
          maxApiCallsInFlight: 2,
          apiConcurrency: 2,
          schedule: "fifo",
          timeoutMs: 2000,
          scoring: "main thread",
          cached: 0,
          cache: "none",
          metrics: {
            apiCalls: { emissions: 5, governance: 5 },
            apiLatencyMeanMs: { emissions: 1200, governance: 1000 },
            retries: 0,
            timeouts: 0,
            turnsAgain: 0,
            cacheHits: 0
          },
          partial: false,
          gate: "this process",
          longestPermitWaitMs: 1000,
          secondPass: 0,
          sources: undefined
        }
      )
    }))

  it.effect("eager: one scored, four Data Incomplete, exit code 3", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runCli(["--schedule", "eager", "--format", "json"])
      assert.strictEqual(JSON.parse(stdout).summary.metrics.timeouts, 4)
      assert.strictEqual(code, Cli.ExitCode.partial)
      const report = JSON.parse(stdout)
      assert.deepStrictEqual(report.companies.map((c: { status: string }) => c.status), ["scored", "skipped", "skipped", "skipped", "skipped"])
      for (const company of report.companies.slice(1)) {
        assert.strictEqual(company.reason, "Data Incomplete")
        assert.strictEqual(company.reasonCode, "data-incomplete")
        assert.deepStrictEqual(company.missing, ["emissions", "governance"])
      }
      assert.strictEqual(report.summary.elapsedMs, 2000)
      assert.strictEqual(report.summary.cacheSize, 1)
      // no permit goes to a company whose deadline has passed
      assert.strictEqual(report.summary.apiCalls, 4)
    }))

  it.effect("takes companies by name or ticker, flags for latencies, concurrency and timeout", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runCli([
        "msft",
        "Tesla",
        "Unknown Corp",
        "--api-concurrency",
        "4",
        "--timeout",
        "1500ms",
        "--db-latency",
        "0.1s",
        "--latency-emissions",
        "1.4s",
        "--latency-governance",
        "300ms",
        "--format",
        "json"
      ])
      assert.strictEqual(code, Cli.ExitCode.partial)
      const report = JSON.parse(stdout)
      assert.deepStrictEqual(report.companies.map((c: { input: string; status: string }) => `${c.input}:${c.status}`), [
        "msft:scored",
        "Tesla:scored",
        "Unknown Corp:skipped"
      ])
      assert.strictEqual(report.companies[2].reason, "Unknown company")
      assert.strictEqual(report.companies[2].reasonCode, "unknown-company")
      // four permits: both companies' calls run at once; the slowest source is emissions at 1.4 s
      assert.strictEqual(report.summary.elapsedMs, 1400)
      assert.strictEqual(report.summary.maxApiCallsInFlight, 4)
      assert.strictEqual(report.summary.timeoutMs, 1500)
    }))

  it.effect("renders a table with a row per company and the summary", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runCli(["Apple", "Meta"])
      assert.strictEqual(code, Cli.ExitCode.ok)
      const lines = stdout.split("\n")
      assert.match(lines[0]!, /^Ticker\s+Name\s+Sector\s+Market cap/)
      assert.match(lines[2]!, /^AAPL\s+Apple Inc\.\s+Information Technology\s+\$3\.40T/)
      assert.match(lines[3]!, /^META\s+Meta Platforms, Inc\./)
      assert.match(stdout, /Scored 2 of 2, skipped 0; cache size 2; total time 2\.20 s/)
      assert.match(stdout, /API calls 4, at most 2 in flight \(limit 2\)/)
    }))

  for (const [args, message] of usageErrors) {
    it.effect(`rejects ${args.join(" ")} with one line and exit code 2`, () =>
      Effect.gen(function*() {
        const { code, stderr, stdout } = yield* runCli(args)
        assert.strictEqual(code, Cli.ExitCode.usage)
        assert.strictEqual(stdout, "")
        assert.strictEqual(stderr.trimEnd().split("\n").length, 1)
        assert.match(stderr, message)
        assert.notMatch(stderr, /at .*\.ts:\d+/)
      }))
  }

  it.effect("answers --version and --help on stdout, wherever they are on the line", () =>
    Effect.gen(function*() {
      const version = yield* runCli(["--version"])
      assert.strictEqual(version.code, Cli.ExitCode.ok)
      assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
      const help = yield* runCli(["--format", "json", "AAPL", "--help"])
      assert.strictEqual(help.code, Cli.ExitCode.ok)
      assert.strictEqual(help.stderr, "")
      assert.match(help.stdout, /^Usage: esg-aggregator \[COMPANY\.\.\.\] \[options\]$/m)
      const importHelp = yield* runCli(["import", "-h"])
      assert.match(importHelp.stdout, /^Usage: esg-aggregator import CSV --db FILE/m)
    }))

  const commandHelp = {
    report: Command.getHelp(reportCommand, CliConfig.defaultConfig),
    import: Command.getHelp(importCommand, CliConfig.defaultConfig),
    "serve-providers": Command.getHelp(serveCommand, CliConfig.defaultConfig)
  }
  for (const topic of ["report", "import", "serve-providers"] as const) {
    it(`--help of ${topic}: every option the parser takes, with what it does, plain text`, () => {
      const text = helpText(topic, "1.2.3")
      // the options @effect/cli would list for this command, from its own help document
      const parsed = HelpDoc.toAnsiText(commandHelp[topic])
      const names = new Set([...parsed.matchAll(/--[a-z][a-z-]+/g)].map((m) => m[0]))
      // refused with its own line (see the usage errors above): the help does not offer it
      names.delete("--wizard")
      assert.isAbove(names.size, 1)
      for (const name of names) assert.match(text, new RegExp(`^  ${name}\\b.*\\n      \\S`, "m"), name)
      assert.notMatch(text, /A user-defined piece of text/)
      // eslint-disable-next-line no-control-regex -- looking for colour codes
      assert.notMatch(text, /\u001b\[/)
      assert.match(text, /--log-level LEVEL/)
    })
  }

  /* eslint-disable no-control-regex -- looking for colour codes */
  it.effect("colour only where it is allowed: ratings in the table and the help's headings, never in JSON, CSV or a file", () =>
    Effect.gen(function*() {
      const colour = { stdoutColor: true }
      const escape = /\u001b\[/
      const table = (yield* runCli(["AAPL", "TSLA"], "60 seconds", colour)).stdout
      assert.match(table, /\d\.\d\d \u001b\[(32|33|31)m(AAA|AA|A|BBB|BB|B|CCC)\u001b\[39m/)
      // the escape codes take no room: without them the table is the plain one, column for column
      assert.strictEqual(table.replace(/\u001b\[\d+m/g, ""), (yield* runCli(["AAPL", "TSLA"])).stdout)
      assert.match((yield* runCli(["--help"], "1 second", colour)).stdout, /\u001b\[1mOptions:\u001b\[22m/)
      for (const format of ["json", "csv", "ndjson"]) {
        assert.notMatch((yield* runCli(["AAPL", "--format", format], "60 seconds", colour)).stdout, escape)
      }
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "esg-colour-")), "report.txt")
      yield* runCli(["AAPL", "--output", file], "60 seconds", colour)
      assert.notMatch(fs.readFileSync(file, "utf8"), escape)
      assert.notMatch((yield* runCli(["AAPL"])).stdout, escape)
    }))
  /* eslint-enable no-control-regex */

  it("NO_COLOR set and not empty turns colour off; a pipe never has it", () => {
    assert.isTrue(colorAllowed(true, undefined))
    assert.isTrue(colorAllowed(true, ""))
    assert.isFalse(colorAllowed(true, "1"))
    assert.isFalse(colorAllowed(false, undefined))
  })

  it("--help says each option's default and environment variable", () => {
    const text = helpText("report", "1.2.3")
    assert.match(text, /--api-concurrency N\n .*1 to 64 \(default: 2; env ESG_API_CONCURRENCY\)/)
    assert.match(text, /--timeout D\n .*\(default: 2s\)/)
    assert.match(text, /--samples N\n .*\(default: 500000\)/)
  })

  it.effect("--log-level is taken anywhere on the line, and applies", () =>
    Effect.gen(function*() {
      const quiet = yield* runCli(["--format", "json", "Nonexistent Widgets", "--log-level", "error"])
      assert.strictEqual(quiet.code, Cli.ExitCode.partial)
      assert.strictEqual(quiet.stderr, "")
      const loud = yield* runCli(["--format", "json", "Nonexistent Widgets", "--log-level=debug"])
      assert.strictEqual(loud.code, Cli.ExitCode.partial)
      assert.strictEqual(JSON.parse(loud.stdout).companies[0].reasonCode, "unknown-company")
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none))))

  it.effect("echoes the deadline without rounding it", () =>
    Effect.gen(function*() {
      const { stdout } = yield* runCli(["--timeout", "1.25s", "AAPL"])
      assert.match(stdout, /deadline 1\.25 s/)
    }))
})

describe("a stop request", () => {
  /** A shutdown requested by `signal` at 3 s of virtual time: Apple and Microsoft are scored, Meta is in flight. */
  const stopAt3s = (signal: StopSignal) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const stop = yield* Deferred.make<StopSignal>()
      yield* Effect.forkDaemon(Effect.zipRight(Effect.sleep("3 seconds"), Deferred.succeed(stop, signal)))
      return yield* Effect.provideService(effect, Shutdown, Shutdown.of({ requested: Deferred.await(stop) }))
    })

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it.effect(`${signal}: the partial report, marked partial in every format, and exit ${code}`, () =>
      Effect.gen(function*() {
        const json = yield* runCli(["--format", "json"]).pipe(stopAt3s(signal))
        assert.strictEqual(json.code, code)
        const report = JSON.parse(json.stdout)
        assert.deepStrictEqual(report.companies.map((c: { ticker: string }) => c.ticker), ["AAPL", "MSFT"])
        assert.isTrue(report.summary.partial)
        // what was asked for, not what finished: the three still in flight or waiting are counted
        assert.strictEqual(report.summary.requested, 5)
        assert.strictEqual(report.summary.elapsedMs, 3000)
        assert.strictEqual(json.stderr, `esg-aggregator: stopped by ${signal}: partial report, 2 of 5 companies finished\n`)
        const table = yield* runCli([]).pipe(stopAt3s(signal))
        assert.strictEqual(table.code, code)
        assert.match(table.stdout, /^AAPL /m)
        assert.notMatch(table.stdout, /^META /m)
        assert.match(table.stdout, /^Partial report: the run was stopped/m)
      }))
  }

  it.effect("a run that ends by itself is not partial", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runCli(["--format", "json", "AAPL"])
      assert.strictEqual(code, Cli.ExitCode.ok)
      assert.isFalse(JSON.parse(stdout).summary.partial)
    }))
})

describe("pool sizes", () => {
  const flags = {
    workers: Option.none<number>(),
    dbWorkers: Option.none<number>(),
    apiConcurrency: 2,
    dbLatency: Duration.millis(800),
    samples: 500_000
  }
  it("by default one pool for both, grown to what the work can use; never more than companies", () => {
    assert.strictEqual(poolSizes(flags, 1).shared, 1)
    // blocking lookups: one more thread than the permits (they overlap that much), or the cores for the scores
    assert.strictEqual(poolSizes(flags, 5).shared, Math.min(5, Math.max(3, cores)))
    assert.strictEqual(poolSizes({ ...flags, apiConcurrency: 64 }, 500).shared, Bounds.dbWorkers)
    assert.strictEqual(poolSizes({ ...flags, apiConcurrency: 12 }, 500).shared, Math.max(13, cores))
    // lookups that block for nothing need no thread each: the cores for the scores, one thread without them
    assert.strictEqual(poolSizes({ ...flags, apiConcurrency: 64, dbLatency: Duration.zero }, 500).shared, cores)
    assert.strictEqual(poolSizes({ ...flags, apiConcurrency: 64, dbLatency: Duration.zero, samples: 0 }, 500).shared, 1)
    assert.strictEqual(poolSizes({ ...flags, apiConcurrency: 16, samples: 0 }, 500).shared, 16)
    assert.strictEqual(poolSizes({ ...flags, dbLatency: Duration.zero, samples: 1000 }, 500).shared, cores)
  })

  it("asked for with --workers or --db-workers, two pools: the scoring pool at the cores, the database pool at the permits + 1", () => {
    const two = (sizes: ReturnType<typeof poolSizes>) => ({ database: sizes.database, scoring: sizes.scoring, shared: sizes.shared })
    assert.deepStrictEqual(two(poolSizes({ ...flags, workers: Option.some(1) }, 1)), { database: 1, scoring: 1, shared: undefined })
    assert.deepStrictEqual(two(poolSizes({ ...flags, dbWorkers: Option.some(2) }, 5)), { database: 2, scoring: Math.min(5, cores), shared: undefined })
    assert.deepStrictEqual(two(poolSizes({ ...flags, workers: Option.some(8), dbWorkers: Option.some(16) }, 3)), { database: 3, scoring: 3, shared: undefined })
    assert.deepStrictEqual(two(poolSizes({ ...flags, workers: Option.some(8) }, 500)), { database: 3, scoring: 8, shared: undefined })
  })
})

describe("parseDuration", () => {
  it("reads seconds by default and the usual units", () => {
    const millis = (text: string) => Option.map(parseDuration(text), (d) => d.value._tag === "Millis" ? d.value.millis : -1)
    assert.deepStrictEqual(millis("2"), Option.some(2000))
    assert.deepStrictEqual(millis("1.5s"), Option.some(1500))
    assert.deepStrictEqual(millis("800ms"), Option.some(800))
    assert.deepStrictEqual(millis("1m"), Option.some(60_000))
    assert.deepStrictEqual(millis(" 2 seconds "), Option.some(2000))
    assert.isTrue(Option.isNone(parseDuration("2x")))
    assert.isTrue(Option.isNone(parseDuration("-1s")))
    assert.isTrue(Option.isNone(parseDuration("")))
  })
})

/** Runs the CLI with real worker threads and the real clock. */
const runCliLive = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { captured, output } = yield* Output.makeCapture()
    const code = yield* Cli.run(["node", "esg-aggregator", ...args, ...noCache(args)]).pipe(Effect.provideService(Output, output))
    return { code, ...(yield* captured) }
  }).pipe(Effect.provide(NodeContext.layer))

describe("Cli with worker threads and the SQLite database", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-cli-"))
  // a lookup that blocks for 1 ms still goes to a database thread; one that blocks for nothing is read here
  const fast = ["--db-latency", "1ms", "--latency-emissions", "20ms", "--latency-governance", "10ms", "--workers", "2", "--db-workers", "2"]

  it.live("scores the seed companies from the database on workers, identically twice", () =>
    Effect.gen(function*() {
      const first = yield* runCliLive(["--format", "json", "--samples", "20000", ...fast])
      const second = yield* runCliLive(["--format", "json", "--samples", "20000", ...fast])
      assert.strictEqual(first.code, Cli.ExitCode.ok)
      const scores = (stdout: string) =>
        JSON.parse(stdout).companies.map((c: { ticker: string; score: unknown }) => [c.ticker, c.score])
      assert.deepStrictEqual(scores(first.stdout), scores(second.stdout))
      const report = JSON.parse(first.stdout)
      assert.match(report.summary.sources.fundamentals, /universe\.db$/)
      // the CPU-heavy score ran on the scoring pool, not on the main thread
      assert.strictEqual(report.summary.scoring, "worker threads")
      assert.strictEqual(new Set(report.companies.map((c: { score: { value: number } }) => c.score.value)).size, 5)
      assert.isTrue(report.companies.every((c: { score: { samples: number } }) => c.score.samples === 20000))
    }))

  it.live("a score without samples, or a lookup that blocks for nothing, is computed where its data is: no thread for a few microseconds of work", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runCliLive(["--format", "json", "--samples", "0", ...fast.slice(2), "--db-latency", "0"])
      assert.strictEqual(code, Cli.ExitCode.ok)
      const report = JSON.parse(stdout)
      assert.strictEqual(report.summary.scoring, "main thread")
      assert.match(report.summary.sources.fundamentals, /universe\.db \(main thread\)$/)
      assert.isTrue(report.companies.every((c: { score: { samples: number } }) => c.score.samples === 0))
    }))

  it.live("CSV: no cell starts with what a spreadsheet runs (=, +, -, @, tab, carriage return), in names and inputs alike", () =>
    Effect.gen(function*() {
      const leads = ["=", "+", "-", "@", "\t", "\r"]
      // names as a team's import may carry them (a name is trimmed, so tab and carriage return come in the inputs)
      const records = universe.slice(0, 4).map((record, i) =>
        new CompanyRecord({ ...record, name: `${leads[i]}HYPERLINK("http://x") ${record.name}` })
      )
      const csv = path.join(dir, "formulas.csv")
      const db = path.join(dir, "formulas.db")
      fs.writeFileSync(csv, toCsv(records))
      assert.strictEqual((yield* runCliLive(["import", csv, "--db", db])).code, Cli.ExitCode.ok)
      const attacks = leads.map((lead) => `${lead}cmd|' /C calc'!A0`)
      // an argument that starts with - is an option: that one comes in a file
      const file = path.join(dir, "attacks.txt")
      fs.writeFileSync(file, `${attacks[2]}\n`)
      const inputs = [...records.map((record) => record.ticker), ...attacks.filter((_, i) => i !== 2)]
      const { stderr, stdout } = yield* runCliLive([
        "--format",
        "csv",
        "--db",
        db,
        "--samples",
        "0",
        ...fast.slice(2),
        "--db-latency",
        "0",
        "--input",
        file,
        ...inputs
      ])
      assert.notStrictEqual(stdout, "", stderr)
      const rows: ReadonlyArray<Record<string, string>> = parse(stdout, { columns: true })
      assert.strictEqual(rows.length, inputs.length + 1)
      assert.deepStrictEqual(rows.slice(0, 4).map((row) => row.name[1]), leads.slice(0, 4))
      for (const row of rows) {
        for (const [column, cell] of Object.entries(row)) assert.notMatch(cell, /^[=+\-@\t\r]/, `${column}: ${JSON.stringify(cell)}`)
      }
      assert.deepStrictEqual(new Set(rows.slice(4).map((row) => row.input)), new Set(attacks.map((attack) => `'${attack}`)))
    }))

  it.live("a missing --db fails fast with one line and exit code 4", () =>
    Effect.gen(function*() {
      const missing = path.join(dir, "missing.db")
      const { code, stderr, stdout } = yield* runCliLive(["--db", missing])
      assert.strictEqual(code, Cli.ExitCode.unavailable)
      assert.strictEqual(stdout, "")
      assert.strictEqual(stderr, `esg-aggregator: database not found: ${missing}\n`)
    }))

  it.live("imports a CSV into a database the report then reads, names and all", () =>
    Effect.gen(function*() {
      const csv = path.join(dir, "mini.csv")
      const db = path.join(dir, "mini.db")
      fs.writeFileSync(csv, toCsv(universe.slice(0, 30)))
      const imported = yield* runCliLive(["import", csv, "--db", db])
      assert.strictEqual(imported.code, Cli.ExitCode.ok)
      assert.strictEqual(imported.stdout, `imported 30 companies into ${db}\n`)
      const report = yield* runCliLive(["--db", db, "--format", "json", "--samples", "0", ...fast, universe[20]!.name, "Tesla"])
      assert.strictEqual(report.code, Cli.ExitCode.ok)
      assert.deepStrictEqual(
        JSON.parse(report.stdout).companies.map((c: { ticker: string }) => c.ticker),
        [universe[20]!.ticker, "TSLA"]
      )
    }))

  it.live("rejects a malformed CSV with the line and field, and exit code 2", () =>
    Effect.gen(function*() {
      const csv = path.join(dir, "bad.csv")
      const lines = toCsv(universe.slice(0, 3)).split("\n")
      lines[2] = lines[2]!.replace(/,Information Technology,/, ",Informatics,")
      fs.writeFileSync(csv, lines.join("\n"))
      const { code, stderr } = yield* runCliLive(["import", csv, "--db", path.join(dir, "bad.db")])
      assert.strictEqual(code, Cli.ExitCode.usage)
      assert.match(stderr, /^esg-aggregator import: .*line 3: sector/)
      assert.isFalse(fs.existsSync(path.join(dir, "bad.db")))
    }))
})

describe("serve-providers", () => {
  it.live("says why it cannot listen, in the operating system's words, with exit code 4", () =>
    Effect.gen(function*() {
      const taken = yield* ProviderServer
      const port = new URL(taken.url).port
      const busy = yield* runCliLive(["serve-providers", "--port", port])
      assert.strictEqual(busy.code, Cli.ExitCode.unavailable)
      assert.strictEqual(busy.stderr, `esg-aggregator serve-providers: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`)
      const nowhere = yield* runCliLive(["serve-providers", "--host", "256.1.1.1"])
      assert.strictEqual(nowhere.code, Cli.ExitCode.unavailable)
      assert.match(nowhere.stderr, /^esg-aggregator serve-providers: cannot listen on 256\.1\.1\.1:8787: getaddrinfo (ENOTFOUND|EAI_AGAIN) 256\.1\.1\.1\n$/)
    }).pipe(Effect.provide(ProviderServer.layer({ records: universe })), Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none))))
})

describe("inputs and outputs", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-io-"))
  const write = (name: string, text: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text)
    return file
  }
  const tickersOf = (stdout: string) => JSON.parse(stdout).companies.map((c: { ticker: string }) => c.ticker)

  it.effect("--input: one per line, blank lines and comments ignored, a duplicate reported once", () =>
    Effect.gen(function*() {
      const file = write("list.txt", "AAPL\nMicrosoft\n\n# a comment\naapl\n  TSLA  \n")
      const { code, stdout } = yield* runCli(["--format", "json", "--input", file])
      assert.strictEqual(code, Cli.ExitCode.ok)
      assert.deepStrictEqual(tickersOf(stdout), ["AAPL", "MSFT", "TSLA"])
    }))

  it.effect("--input: a CSV with a ticker column, or a name column, detected from its header", () =>
    Effect.gen(function*() {
      const byTicker = write("portfolio.csv", "weight,Ticker,note\n0.5,MSFT,\"core, long\"\n0.5,META,x\n")
      assert.deepStrictEqual(tickersOf((yield* runCli(["--format", "json", "--input", byTicker])).stdout), ["MSFT", "META"])
      const byName = write("names.csv", "name,weight\n\"Apple Inc.\",1\nTesla,2\n")
      assert.deepStrictEqual(tickersOf((yield* runCli(["--format", "json", "--input", byName])).stdout), ["AAPL", "TSLA"])
    }))

  it.effect("--input: the CSVs people have: one column under its header, other column names, semicolons, tabs", () =>
    Effect.gen(function*() {
      const shapes = {
        "one.csv": "Ticker\nAAPL\nMSFT\n",
        "symbol.csv": "Symbol,Company,Wt\nAAPL,Apple,0.5\nMSFT,Microsoft,0.5\n",
        "semi.csv": "Ticker;Weight\nAAPL;50\nMSFT;50\n",
        "tabs.tsv": "Company\tWeight\nApple\t1\nMicrosoft\t1\n",
        "company.csv": "\uFEFFcompany name,weight\r\n\"Apple Inc.\",1\r\nMicrosoft,2\r\n"
      }
      for (const [name, text] of Object.entries(shapes)) {
        const { code, stderr, stdout } = yield* runCli(["--format", "json", "--input", write(name, text)])
        assert.strictEqual(code, Cli.ExitCode.ok, `${name}: ${stderr}`)
        assert.deepStrictEqual(tickersOf(stdout), ["AAPL", "MSFT"], name)
      }
      // a list whose names hold a comma is still a list
      const names = yield* runCli(["--format", "json", "--input", write("names.txt", "Tesla, Inc.\nApple Inc.\n")])
      assert.deepStrictEqual(tickersOf(names.stdout), ["TSLA", "AAPL"])
    }))

  it.effect("--input: a table with no column of companies, or a workbook, is one usage line; never a table of unknown companies", () =>
    Effect.gen(function*() {
      const table = write("other.csv", "Code,Label,Wt\nAAPL,Apple,0.5\nMSFT,Microsoft,0.5\n")
      const refused = yield* runCli(["--format", "json", "--input", table])
      assert.strictEqual(refused.code, Cli.ExitCode.usage)
      assert.strictEqual(refused.stdout, "")
      assert.match(
        refused.stderr,
        /^esg-aggregator: .*other\.csv: a table whose header names no column of companies \(found Code, Label, Wt; accepted: ticker, .*symbol.* for tickers, name, company.* for names\) \(see --help\)\n$/
      )
      const workbook = write("book.xlsx", "")
      fs.writeFileSync(workbook, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64)]))
      const book = yield* runCli(["--input", workbook])
      assert.strictEqual(book.code, Cli.ExitCode.usage)
      assert.match(book.stderr, /book\.xlsx is a spreadsheet workbook .*save its sheet as CSV/)
    }))

  it.effect("the table's small words: a skipped company's ticker once, an unknown company without one, one score in the singular", () =>
    Effect.gen(function*() {
      const table = (yield* runCli(["AAPL", "Nonexistent Widgets", "--timeout", "1s"])).stdout
      assert.match(table, /^AAPL {2,}skipped: /m)
      assert.notMatch(table, /AAPL +AAPL/)
      assert.match(table, /^- {2,}Nonexistent Widgets {2,}skipped: Unknown company/m)
      assert.notMatch(table, /^\?/m)
      const cache = path.join(dir, "small-words.db")
      yield* runCli(["AAPL", "--cache", cache])
      const again = (yield* runCli(["AAPL", "--cache", cache])).stdout
      assert.match(again, /^Cached: 1 score reused from /m)
    }))

  it.effect("--timeline fits the terminal: a long run is charted in parts, every call readable", () =>
    Effect.gen(function*() {
      const companies = universe.slice(0, 40).map((record) => record.ticker)
      const { stderr } = yield* runCli(
        ["--timeline", "--format", "json", "--latency-emissions", "100ms", "--latency-governance", "100ms", ...companies],
        "60 seconds",
        { stderrColumns: 80 }
      )
      const chart = stderr.slice(stderr.indexOf("API calls on"))
      assert.match(chart, /^API calls on 2 permit lanes, .* in \d+ parts\n/)
      for (const line of chart.trimEnd().split("\n").slice(1)) assert.isAtMost(line.length, 80, line)
      for (const ticker of companies) {
        assert.include(chart, `[${ticker} e]`, ticker)
        assert.include(chart, `[${ticker} g]`, ticker)
      }
    }))

  it.effect("--format in any case; a format it does not write names the flag", () =>
    Effect.gen(function*() {
      const upper = yield* runCli(["--format", "CSV", "AAPL"])
      assert.strictEqual(upper.code, Cli.ExitCode.ok)
      assert.match(upper.stdout, /^input,ticker,/)
      const xlsx = yield* runCli(["--format", "xlsx", "AAPL"])
      assert.strictEqual(xlsx.code, Cli.ExitCode.usage)
      assert.match(xlsx.stderr, /--format: expected one of table, json, csv, ndjson, html, got 'xlsx'/)
    }))

  it.effect("--format html: one page on stdout, with the run's calls on their permit lanes", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runCli(["--format", "HTML", "AAPL", "MSFT"])
      assert.strictEqual(code, Cli.ExitCode.ok)
      assert.match(stdout, /^<!doctype html>\n/)
      assert.match(stdout, /<\/html>\n$/)
      for (const ticker of ["AAPL", "MSFT"]) assert.include(stdout, `<tr data-ticker="${ticker}">`)
      // four calls (two companies, two sources each), drawn without --timeline
      assert.include(stdout, "4 external calls on 2 permit lanes")
    }))

  it.effect("ages in weeks, as the durations' grammar says", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(Option.map(parseDuration("2w"), Duration.toMillis), Option.some(14 * 86_400_000))
      const { code } = yield* runCli(["--max-age", "1w", "AAPL"])
      assert.strictEqual(code, Cli.ExitCode.ok)
    }))

  it.effect("an input that names no company, or cannot be read, is one usage line", () =>
    Effect.gen(function*() {
      const empty = write("empty.txt", "\n# nothing here\n\n")
      const none = yield* runCli(["--input", empty])
      assert.strictEqual(none.code, Cli.ExitCode.usage)
      assert.strictEqual(none.stderr, `esg-aggregator: ${empty}: no company in it (see --help)\n`)
      const missing = yield* runCli(["--input", path.join(dir, "nope.txt")])
      assert.strictEqual(missing.code, Cli.ExitCode.usage)
      assert.match(missing.stderr, /^esg-aggregator: cannot read .*nope\.txt: .*no such file or directory.*\n$/)
    }))

  it.effect("CSV: parsed back by a CSV parser, one row per company, formula injection neutralised", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runCli(["--format", "csv", "AAPL", "=cmd|' /C calc'!A0"])
      assert.strictEqual(code, Cli.ExitCode.partial)
      const rows: ReadonlyArray<Record<string, string>> = parse(stdout, { columns: true })
      assert.deepStrictEqual(rows.map((row) => row.status), ["scored", "skipped"])
      assert.strictEqual(rows[0]!.name, "Apple Inc.")
      assert.strictEqual(Number(rows[0]!.market_cap_usd), 3.4e12)
      assert.strictEqual(rows[1]!.input, "'=cmd|' /C calc'!A0")
      for (const row of rows) for (const cell of Object.values(row)) assert.notMatch(cell, /^[=+@]/)
    }))

  it.effect("--second-pass: what it tried again is marked in every format", () =>
    Effect.gen(function*() {
      // a deadline shorter than the emissions call: every company misses it, in both passes
      const args = ["--second-pass", "--timeout", "1s", "AAPL", "MSFT"]
      const json = JSON.parse((yield* runCli([...args, "--format", "json"])).stdout)
      assert.deepStrictEqual(json.companies.map((c: { secondPass?: boolean }) => c.secondPass), [true, true])
      assert.strictEqual(json.summary.secondPass, 2)
      const csv: ReadonlyArray<Record<string, string>> = parse((yield* runCli([...args, "--format", "csv"])).stdout, { columns: true })
      assert.deepStrictEqual(csv.map((row) => row.second_pass), ["true", "true"])
      const ndjson = (yield* runCli([...args, "--format", "ndjson"])).stdout.trimEnd().split("\n").map((line) => JSON.parse(line))
      assert.deepStrictEqual(ndjson.slice(0, 2).map((line) => line.secondPass), [true, true])
      const table = (yield* runCli(args)).stdout
      assert.strictEqual(table.match(/skipped: Data Incomplete \(missing [a-z, ]+\) \(2nd pass\)/g)?.length, 2)
      assert.include(table, "Second pass: 2 companies skipped for a transient reason were tried again, 0 scored")
      // without it, nothing is marked
      const plain = JSON.parse((yield* runCli(["--timeout", "1s", "AAPL", "--format", "json"])).stdout)
      assert.isUndefined(plain.companies[0].secondPass)
      assert.strictEqual(plain.summary.secondPass, 0)
    }))

  it.effect("NDJSON: one company per line, then the summary line; --output replaces the file once whole", () =>
    Effect.gen(function*() {
      const target = write("report.ndjson", "the previous report\n")
      const { code, stdout } = yield* runCli(["--format", "ndjson", "--output", target, "AAPL", "MSFT"])
      assert.strictEqual(code, Cli.ExitCode.ok)
      assert.strictEqual(stdout, "")
      const lines = fs.readFileSync(target, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line))
      assert.deepStrictEqual(lines.slice(0, 2).map((line) => line.ticker).sort(), ["AAPL", "MSFT"])
      assert.strictEqual(lines[2].summary.scored, 2)
      assert.deepStrictEqual(fs.readdirSync(dir).filter((name) => name.endsWith(".tmp")), [])
    }))
})

describe("a cache that cannot be opened", () => {
  for (const [what, cache] of [["a folder under /proc", "/proc/esg-test/scores.db"], ["a file where its folder should be", "FILE/scores.db"]] as const) {
    it.effect(`${what}: one line, exit 4, and nothing hangs`, () =>
      Effect.gen(function*() {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "esg-badcache-")), "plain")
        fs.writeFileSync(file, "")
        const target = cache.replace("FILE", file)
        const { code, stderr, stdout } = yield* runCli(["--cache", target, "AAPL"])
        assert.strictEqual(code, Cli.ExitCode.unavailable)
        assert.strictEqual(stdout, "")
        assert.match(stderr, /^esg-aggregator: score cache unavailable: .*\(--no-cache runs without it\)\n$/)
      }))
  }
})

describe("inputs from stdin", () => {
  it.live("- reads the companies from standard input", () =>
    Effect.gen(function*() {
      const fast = ["--in-process", "--samples", "0", "--db-latency", "0", "--latency-emissions", "5ms", "--latency-governance", "5ms"]
      const run = yield* runBuiltCli([...fast, "--format", "ndjson", "-"], { stdin: "AAPL\n# skip\nMSFT\n" })
      assert.strictEqual(run.code, 0, run.stderr)
      const lines = run.stdout.trimEnd().split("\n").map((line) => JSON.parse(line))
      assert.strictEqual(lines.length, 3)
      // `-` first, the flags after it
      const first = yield* runBuiltCli(["-", ...fast, "--format", "json"], { stdin: "AAPL\n" })
      assert.strictEqual(first.code, 0, first.stderr)
      assert.deepStrictEqual(JSON.parse(first.stdout).companies.map((c: { ticker: string }) => c.ticker), ["AAPL"])
      const empty = yield* runBuiltCli([...fast, "-"], { stdin: "" })
      assert.strictEqual(empty.code, 2)
      assert.strictEqual(empty.stderr, "esg-aggregator: standard input: no company in it (see --help)\n")
    }))
})

describe("durations as people write them", () => {
  it("in their largest unit that keeps them short, never in two units", () => {
    assert.deepStrictEqual(
      [800, 1200, 2000, 1250, 90_000, 86_400_000].map((ms) => durationText(Duration.millis(ms))),
      ["800ms", "1.2s", "2s", "1.25s", "1.5m", "24h"]
    )
  })
})

describe("the progress line", () => {
  const counts = { total: 10, done: 3, skipped: 1, cached: 2, inFlight: 2, elapsedMs: 4000 }
  it("says what is done, skipped, cached and in flight, the time so far and the time left", () => {
    assert.strictEqual(
      progressLine(counts, 1100),
      "4/10 done: 3 scored (2 cached), 1 skipped; 2 API calls in flight; 4.0 s elapsed, about 12.0 s left"
    )
  })
  it("a log line on a terminal is written above the progress line, whole, and the line drawn again under it", () => {
    const written: Array<string> = []
    const line = statusLine((text) => void written.push(text))
    line.above("before any status\n")
    line.status("1/3 done")
    line.above("timestamp=… level=WARN message=\"Unknown company\"\n")
    line.status("2/3 done")
    line.status("")
    line.above("after\n")
    assert.deepStrictEqual(written, [
      "before any status\n",
      "\r\u001b[K1/3 done",
      "\r\u001b[Ktimestamp=… level=WARN message=\"Unknown company\"\n",
      "1/3 done",
      "\r\u001b[K2/3 done",
      "\r\u001b[K",
      "after\n"
    ])
  })

  it.effect("counts what the report counts: a company named twice is one", () =>
    Effect.gen(function*() {
      const { statuses, stdout } = yield* runCli(["--format", "json", "AAPL", "aapl", "MSFT", "Microsoft"], "60 seconds", {
        stderrIsTerminal: true
      })
      assert.strictEqual(JSON.parse(stdout).summary.requested, 2)
      const drawn = statuses.filter((line) => line !== "")
      assert.isAbove(drawn.length, 0)
      for (const line of drawn) assert.match(line, /^\d\/2 done/)
    }))

  it.effect("a call out for long is named: what the run waits on, and for how long", () =>
    Effect.gen(function*() {
      const { statuses } = yield* runCli(
        ["--format", "json", "--latency-emissions", "20s", "--timeout", "30s", "AAPL"],
        "60 seconds",
        { stderrIsTerminal: true }
      )
      const waiting = statuses.filter((line) => line.includes("waiting"))
      assert.isAbove(waiting.length, 0)
      // named from the fifth second on, not before
      assert.match(waiting[0]!, /; waiting 5\.0 s on emissions for AAPL$/)
      assert.isTrue(statuses.some((line) => / 4\.\d s elapsed/.test(line) && !line.includes("waiting")))
    }))

  it("estimates the time left at the pace of the companies computed so far, else at the schedule's", () => {
    // two computed (four finished, two of them cached) in 4 s: six left at 2 s each
    assert.strictEqual(etaMs(counts, 1100), 12_000)
    // nothing computed yet: the schedule's 1.1 s per company
    assert.strictEqual(etaMs({ ...counts, done: 0, skipped: 0, cached: 0, elapsedMs: 500 }, 1100), 11_000)
    assert.strictEqual(etaMs({ ...counts, done: 10, skipped: 0 }, 1100), 0)
  })
})

describe("a portfolio", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-portfolio-"))
  const write = (name: string, text: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text)
    return file
  }
  const holdings = write(
    "holdings.csv",
    "ticker,name,weight\nAAPL,Apple,20\nMSFT,Microsoft,15\nNOPE,No Such Company,10\nTSLA,Tesla,5\nAAPL,Apple,5\n"
  )

  it.effect("weights in: each holding's normalised weight (a company named twice adds up), the sum read, the coverage", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runCli(["--input", holdings, "--format", "json"])
      assert.strictEqual(code, Cli.ExitCode.partial)
      const report = JSON.parse(stdout)
      const weightOf = (input: string) => report.companies.find((c: { input: string }) => c.input === input).weight
      assert.deepStrictEqual(["AAPL", "MSFT", "NOPE", "TSLA"].map(weightOf), [25 / 55, 15 / 55, 10 / 55, 5 / 55])
      assert.strictEqual(report.portfolio.basis, "percent")
      assert.strictEqual(report.portfolio.weightSum, 55)
      assert.approximately(report.portfolio.coverage.weight, 45 / 55, 1e-12)
      assert.approximately(report.portfolio.coverage.skipped["unknown-company"].weight, 10 / 55, 1e-12)
      // every company of a run without a store: no previous score
      assert.isTrue(report.companies.every((c: { previous: unknown }) => c.previous === null))
      // where each scored company's data came from, and when
      const apple = report.companies.find((c: { input: string }) => c.input === "AAPL")
      assert.deepStrictEqual(Object.keys(apple.provenance), ["fundamentals", "emissions", "governance", "reportingYear", "fetchedAt"])
      assert.strictEqual(apple.provenance.emissions, "simulated")
      assert.strictEqual(apple.provenance.reportingYear, apple.emissions.reportingYear)
      assert.strictEqual(apple.dataQuality, { verified: 1, reported: 2, estimated: 4 }[apple.emissions.basis as string])
    }))

  it.effect("--portfolio-csv: the figures one a row, equal to the JSON's; the CSV report's WACI contributions add up to the WACI", () =>
    Effect.gen(function*() {
      const figuresFile = path.join(dir, "figures.csv")
      const { stdout } = yield* runCli(["--input", holdings, "--format", "json", "--portfolio-csv", figuresFile])
      const portfolio = JSON.parse(stdout).portfolio
      const rows = parse(fs.readFileSync(figuresFile, "utf8"), { columns: true }) as Array<Record<string, string>>
      const row = (figure: string, key = "") => rows.find((r) => r["figure"] === figure && r["key"] === key)!
      assert.strictEqual(Number(row("waci").value), portfolio.waci.value)
      assert.strictEqual(Number(row("waci").coverage_weight), portfolio.coverage.weight)
      assert.strictEqual(Number(row("score", portfolio.score.rating).value), portfolio.score.value)
      assert.strictEqual(Number(row("coverage", "skipped:unknown-company").value), portfolio.coverage.skipped["unknown-company"].weight)
      const csv = parse((yield* runCli(["--input", holdings, "--format", "csv"])).stdout, { columns: true }) as Array<Record<string, string>>
      const contributions = csv.filter((r) => r["waci_contribution"] !== "").map((r) => Number(r["waci_contribution"]))
      assert.strictEqual(contributions.length, 3)
      assert.approximately(contributions.reduce((a, b) => a + b, 0), portfolio.waci.value, 1e-9)
    }))

  it.effect("the table ends with the portfolio's figures", () =>
    Effect.gen(function*() {
      const { stdout } = yield* runCli(["--input", holdings])
      assert.include(stdout, "Portfolio: 4 holdings; weights read as percentages, summing to 55.00 % (normalised to 100 %)")
      assert.match(stdout, /\n {2}WACI {9}\d+\.\d tCO2e\/\$M revenue, on 81\.8 % of the weight, 3 of 4 holdings\n/)
    }))

  const refusals: ReadonlyArray<readonly [string, string]> = [
    ["ticker,weight\nAAPL,10\nMSFT,abc\n", "line 3, column 2 (weight): \"abc\" is not a number"],
    ["ticker,weight\nAAPL,-5\n", "line 2, column 2 (weight): \"-5\" is negative"],
    ["ticker,weight\nAAPL,\n", "line 2, column 2 (weight): no weight given"],
    ["ticker,weight\nAAPL,10%\nMSFT,0.2\n", "line 3, column 2 (weight): line 2 gives a percentage and line 3 a plain number"],
    ["name,value\nApple,12%\n", "line 2, column 2 (value): \"12%\" is a percentage; a value is in USD"]
  ]
  for (const [text, reason] of refusals) {
    it.effect(`a bad holdings file is one line naming where: ${reason}`, () =>
      Effect.gen(function*() {
        const file = write(`bad-${refusals.findIndex(([t]) => t === text)}.csv`, text)
        const { code, stderr, stdout } = yield* runCli(["--input", file, "--format", "json"])
        assert.strictEqual(code, Cli.ExitCode.usage)
        assert.strictEqual(stdout, "")
        assert.strictEqual(stderr.trim().split("\n").length, 1, stderr)
        assert.include(stderr, `${file}: ${reason}`)
      }))
  }

  it.effect("two runs on one store: the second shows each holding's previous score, with its date", () =>
    Effect.gen(function*() {
      const cache = path.join(dir, "history.db")
      const first = JSON.parse((yield* runCli(["AAPL", "MSFT", "--format", "json", "--cache", cache])).stdout)
      assert.deepStrictEqual(first.companies.map((c: { previous: unknown }) => c.previous), [null, null])
      // a day later, computed again
      yield* TestClock.adjust("1 day")
      const second = JSON.parse((yield* runCli(["AAPL", "MSFT", "--format", "json", "--cache", cache, "--refresh"])).stdout)
      for (const [i, company] of second.companies.entries()) {
        assert.deepStrictEqual(company.previous, {
          rating: first.companies[i].score.rating,
          value: first.companies[i].score.value,
          // scored in the instant its data was complete (the scorer takes no virtual time): when the first run fetched it
          computedAt: first.companies[i].provenance.fetchedAt
        })
        assert.isBelow(Date.parse(company.previous.computedAt), Date.parse("1970-01-02T00:00:00Z"))
      }
      // the portfolio's figures against the same holdings' previous run
      assert.isNull(first.portfolio.previousRun)
      assert.deepStrictEqual(second.portfolio.previousRun, {
        at: new Date(0).toISOString(),
        waci: first.portfolio.waci.value,
        score: first.portfolio.score.value ?? null,
        rating: first.portfolio.score.rating ?? null,
        coverage: first.portfolio.coverage.weight
      })
      // the third run reuses the second's scores: their previous is still the first's
      const third = JSON.parse((yield* runCli(["AAPL", "--format", "json", "--cache", cache])).stdout)
      assert.isTrue(third.companies[0].cached)
      assert.strictEqual(third.companies[0].previous.computedAt, second.companies[0].previous.computedAt)
      // other holdings: no previous run of them
      assert.isNull(third.portfolio.previousRun)
    }))

  it.effect("diff: 0 when no rating moved down, 3 naming the company when one did, 2 for a file that is no report", () =>
    Effect.gen(function*() {
      const { stdout } = yield* runCli(["AAPL", "MSFT", "--format", "json"])
      const before = write("before.json", stdout)
      const report = JSON.parse(stdout)
      report.companies[0].score.rating = "CCC"
      report.companies[0].score.value = 0.5
      const after = write("after.json", JSON.stringify(report))
      const same = yield* runCli(["diff", before, before])
      assert.strictEqual(same.code, Cli.ExitCode.ok)
      assert.include(same.stdout, "no rating moved")
      const down = yield* runCli(["diff", before, after])
      assert.strictEqual(down.code, Cli.ExitCode.partial)
      assert.match(down.stdout, /^downgraded {2}AAPL AAA -> CCC \(\d+\.\d\d -> 0\.50\)$/m)
      const up = yield* runCli(["diff", after, before])
      assert.strictEqual(up.code, Cli.ExitCode.ok)
      assert.match(up.stdout, /^upgraded {4}AAPL CCC -> AAA/m)
      const notReport = yield* runCli(["diff", before, holdings])
      assert.strictEqual(notReport.code, Cli.ExitCode.usage)
      assert.include(notReport.stderr, `esg-aggregator diff: ${holdings} is not a JSON report of esg-aggregator`)
    }))

  it.effect("--format html with values: the page's financed emissions and footprint are the JSON report's", () =>
    Effect.gen(function*() {
      const values = write("values.csv", "ticker,value\nAAPL,2500000\nMSFT,1250000\nTSLA,400000\nNOPE,10000\n")
      const json = JSON.parse((yield* runCli(["--input", values, "--format", "json"])).stdout)
      const { stdout: html } = yield* runCli(["--input", values, "--format", "html"])
      const figure = (key: string) => new RegExp(`<span data-figure="${key}">([^<]+)</span>`).exec(html)?.[1]?.replace(/,/g, "")
      assert.strictEqual(figure("financed"), json.portfolio.financedEmissions.value.toFixed(0))
      assert.strictEqual(figure("footprint"), json.portfolio.carbonFootprint.value.toFixed(2))
      assert.strictEqual(figure("score"), json.portfolio.score.value.toFixed(2))
      assert.strictEqual(figure("waci"), json.portfolio.waci.value.toFixed(1))
      assert.include(html, `Attributed by ${json.portfolio.financedEmissions.attribution}`)
      assert.include(html, "weighed by value, $4,160,000 in all")
    }))

  it.effect("diff --html: NEW's page, with each rating's change since OLD and the portfolio's figures then", () =>
    Effect.gen(function*() {
      const { stdout } = yield* runCli(["AAPL", "MSFT", "--format", "json"])
      const report = JSON.parse(stdout)
      const before = write("kept.json", stdout)
      report.companies[0].score.rating = "CCC"
      const after = write("later.json", JSON.stringify(report))
      const page = path.join(dir, "changes.html")
      const { code } = yield* runCli(["diff", before, after, "--html", page])
      assert.strictEqual(code, Cli.ExitCode.partial)
      const html = fs.readFileSync(page, "utf8")
      const at = report.companies.map((c: { provenance: { fetchedAt: string } }) => c.provenance.fetchedAt).sort().at(-1).slice(0, 10)
      assert.include(html, "1 of the 2 holdings scored before changed rating")
      assert.match(html, /<li><strong>AAPL<\/strong> Apple Inc\.: <span aria-hidden="true">▼<\/span> down from AAA to <span class="badge laggard">CCC/)
      assert.include(html, `(previous score ${report.companies[0].score.value.toFixed(2)} on ${at})`)
      assert.include(html, `<p>The same holdings on ${at}: WACI`)
      assert.match(html, /<tr data-ticker="MSFT">.*<td>same \(AAA\)<\/td><\/tr>/)
      const waci = report.portfolio.waci.value.toFixed(1)
      const score = `${report.portfolio.score.value.toFixed(2)} ${report.portfolio.score.rating}`
      assert.include(html, `<p>The same holdings on ${at}: WACI ${waci} → ${waci}; score ${score} → ${score};`)
      // other holdings: the earlier portfolio's figures are not theirs
      const other = write("other.json", (yield* runCli(["AAPL", "--format", "json"])).stdout)
      yield* runCli(["diff", before, other, "--html", page])
      const otherPage = fs.readFileSync(page, "utf8")
      assert.notInclude(otherPage, "The same holdings on")
      assert.include(otherPage, "<tr data-ticker=\"AAPL\">")
    }))
})
