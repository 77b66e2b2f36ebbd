/**
 * The built CLI as a real process (`dist/main.js`, built by `npm test`'s
 * pretest): exit codes, stdout/stderr discipline, and that it exits by itself
 * or on SIGINT with its worker threads.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Bounds } from "../src/cli/Flags.js"
import type { Ticker } from "../src/Domain.js"
import { createDatabase } from "../src/universe/Database.js"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import { universe } from "./fixtures/Scenario.js"

/** Runs the built CLI under `/usr/bin/time`, for its peak resident memory. */
const peakRss = (args: ReadonlyArray<string>) =>
  Effect.async<{ readonly code: number; readonly stdout: string; readonly stderr: string; readonly peakMb: number }>((resume) => {
    const child = execFile("/usr/bin/time", ["-f", "peak-kb=%M", process.execPath, "dist/main.js", ...args], (error, stdout, stderr) => {
      const kb = /peak-kb=(\d+)\s*$/.exec(stderr)
      resume(Effect.succeed({
        code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
        stdout,
        stderr,
        peakMb: kb === null ? Number.NaN : Number(kb[1]) / 1024
      }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error("hung") }))

describe("the CLI process", () => {
  it.live("serve-providers --db serves that universe's companies, and names a file that is none with exit 4", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-serve-db-"))
      const db = path.join(dir, "two.db")
      const [first, second] = universe
      createDatabase(db, [{ ...first!, ticker: "ZZQX" as Ticker, name: "Zed Quux Ltd" }, second!], { synthetic: "true", source: "test" })
      const server = yield* Effect.acquireRelease(
        Effect.sync(() => spawn(process.execPath, ["dist/main.js", "serve-providers", "--port", "0", "--db", db, "--latency-emissions", "0s"])),
        (server) => Effect.sync(() => server.kill("SIGKILL"))
      )
      yield* Effect.gen(function*() {
        const url = yield* Effect.async<string>((resume) => {
          let out = ""
          server.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString()
            const found = /listening on (\S+)/.exec(out)
            if (found !== null) resume(Effect.succeed(found[1]!))
          })
        }).pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error("the server did not listen") }))
        const status = (ticker: string) => Effect.promise(() => fetch(`${url}/emissions/${ticker}`).then((r) => r.status))
        assert.strictEqual(yield* status("ZZQX"), 200)
        assert.strictEqual(yield* status(second!.ticker), 200)
        assert.strictEqual(yield* status(first!.ticker), 404)
      })
      const missing = yield* runBuiltCli(["serve-providers", "--port", "0", "--db", path.join(dir, "none.db")])
      assert.strictEqual(missing.code, 4)
      assert.strictEqual(missing.stderr, `esg-aggregator serve-providers: database not found: ${path.join(dir, "none.db")}\n`)
    }).pipe(Effect.scoped))

  it.live("plain --help and --version load no Effect module, and print what the full program prints", () =>
    Effect.gen(function*() {
      // the entry and its build-time text alone, without the bin beside them: it must not be needed
      const alone = fs.mkdtempSync(path.join(os.tmpdir(), "esg-entry-"))
      for (const file of ["main.js", "help.json"]) fs.copyFileSync(path.join("dist", file), path.join(alone, file))
      const quick = (args: ReadonlyArray<string>) =>
        Effect.sync(() => spawnSync(process.execPath, [path.join(alone, "main.js"), ...args], { encoding: "utf8", timeout: 20_000 }))
      for (const args of [["--help"], ["-h"], ["import", "--help"], ["serve-providers", "-h"], ["--version"]]) {
        const fast = yield* quick(args)
        assert.strictEqual(fast.status, 0, `${args.join(" ")}: ${fast.stderr}`)
        // the same question through the bin (a global flag before it takes the long way)
        const full = yield* runBuiltCli(["--log-level", "info", ...args])
        assert.strictEqual(full.code, 0, full.stderr)
        assert.strictEqual(fast.stdout, full.stdout, args.join(" "))
      }
      // anything else needs the bin
      assert.notStrictEqual((yield* quick(["--in-process", "AAPL"])).status, 0)
    }))

  it.live("prints the seed report and exits 0 by itself", () =>
    Effect.gen(function*() {
      const run = yield* runBuiltCli(["--format", "json", "--latency-emissions", "30ms", "--latency-governance", "20ms", "--db-latency", "10ms", "--samples", "5000"])
      assert.strictEqual(run.code, 0, run.stderr)
      const report = JSON.parse(run.stdout)
      assert.strictEqual(report.summary.scored, 5)
      assert.strictEqual(report.summary.maxApiCallsInFlight, 2)
    }))

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it.live(`${signal} mid-run: the partial report of what finished, one line on stderr, exit ${code} within a second`, () =>
      Effect.gen(function*() {
        // the signal goes out once the first company is scored, while the others are in flight on the workers
        const run = yield* runBuiltCli(["AAPL", "MSFT", "META", "--format", "json", "--log-level", "debug"], {
          signalWhen: { stderr: /message="Company scored"/, signal }
        })
        assert.strictEqual(run.code, code, run.stderr)
        const report = JSON.parse(run.stdout)
        assert.isTrue(report.summary.partial)
        assert.isAtLeast(report.companies.length, 1)
        assert.isBelow(report.companies.length, 3)
        assert.strictEqual(report.companies[0].ticker, "AAPL")
        const notices = run.stderr.split("\n").filter((line) => line.startsWith("esg-aggregator:"))
        assert.deepStrictEqual(notices, [
          `esg-aggregator: stopped by ${signal}: partial report, ${report.companies.length} of 3 companies finished`
        ])
        // measured about 0.4 s; the bound leaves room for a loaded machine
        assert.isBelow(run.afterSignalMs, 2000)
      }))
  }

  it.live("the largest pools any flags allow stay within a few hundred MB for a 5-company report", () =>
    Effect.gen(function*() {
      const args = ["--api-concurrency", "64", "--workers", String(Bounds.workers), "--db-workers", String(Bounds.dbWorkers)]
      const fast = ["--samples", "1000", "--db-latency", "0", "--latency-emissions", "10ms", "--latency-governance", "10ms"]
      const run = yield* peakRss([...args, ...fast, "--format", "json", "AAPL", "MSFT", "META", "AMZN", "TSLA"])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(JSON.parse(run.stdout).summary.scored, 5)
      // measured about 415 MB: five threads per pool at most, one per company
      assert.isBelow(run.peakMb, 500)
    }))

  it.live("--log-format json: every log line on stderr is a JSON object; logfmt by default off a terminal", () =>
    Effect.gen(function*() {
      const fast = ["--in-process", "--samples", "0", "--format", "json", "Nonexistent Widgets", "Apple"]
      const json = yield* runBuiltCli([...fast, "--log-format", "json"])
      const lines = json.stderr.trimEnd().split("\n")
      assert.isAtLeast(lines.length, 1)
      for (const line of lines) assert.strictEqual(typeof JSON.parse(line).message, "string", line)
      const logfmt = yield* runBuiltCli(fast)
      assert.match(logfmt.stderr, /^timestamp=\S+ level=WARN .*message="Unknown company"/m)
      // stderr is a pipe here: no progress line, no terminal codes
      // eslint-disable-next-line no-control-regex -- looking for terminal codes
      assert.notMatch(logfmt.stderr, /\u001b|\r|done:/)
    }))

  it.live("a report larger than the pipe's buffer reaches a slow reader whole", () =>
    Effect.async<{ readonly code: number | null; readonly stdout: string }>((resume) => {
      const tickers = universe.map((record) => record.ticker)
      const fast = ["--in-process", "--samples", "0", "--db-latency", "0", "--latency-emissions", "2ms", "--latency-governance", "2ms"]
      const child = spawn(process.execPath, ["dist/main.js", ...fast, "--format", "json", ...tickers], { stdio: ["ignore", "pipe", "ignore"] })
      let stdout = ""
      // a reader that does not read for a while: the report waits in the pipe (64 KB) and in the writer's queue
      child.stdout.pause()
      setTimeout(() => child.stdout.resume(), 1500)
      child.stdout.on("data", (chunk) => (stdout += chunk))
      child.on("close", (code) => resume(Effect.succeed({ code, stdout })))
      return Effect.sync(() => child.kill("SIGKILL"))
    }).pipe(
      Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error("hung") }),
      Effect.map(({ code, stdout }) => {
        assert.strictEqual(code, 0)
        assert.isAbove(stdout.length, 65_536)
        assert.strictEqual(JSON.parse(stdout).companies.length, universe.length)
      })
    ))

  const oneLineFailures: ReadonlyArray<readonly [string, ReadonlyArray<string>, number, string]> = [
    ["a missing database", ["--db", "/nonexistent/universe.db"], 4, "esg-aggregator: database not found: /nonexistent/universe.db"],
    ["a usage error", ["--api-concurrency", "0"], 2, "esg-aggregator: --api-concurrency: expected a whole number from 1 to 64, got '0' (see --help)"]
  ]
  for (const [what, args, code, line] of oneLineFailures) {
    it.live(`${what}: exit ${code}, one line on stderr, nothing on stdout`, () =>
      Effect.gen(function*() {
        const run = yield* runBuiltCli(args)
        assert.strictEqual(run.code, code)
        assert.strictEqual(run.stdout, "")
        assert.strictEqual(run.stderr, `${line}\n`)
      }))
  }
})
