/**
 * A team on one provider quota, as it runs: real CLI processes sharing one
 * PostgreSQL store (a throwaway cluster) and one `serve-providers` process.
 * The server's own counters say how many calls the team ever had in
 * flight; each process's report says what it fetched and what it reused.
 */
import { assert, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import * as PgCluster from "./fixtures/PgCluster.js"
import { serveProviders } from "./fixtures/ProviderProcess.js"

/** The first companies of the universe the CLI reads by default. */
const tickers = fs.readFileSync("data/universe.csv", "utf8").trim().split("\n").slice(1, 51).map((line) => line.split(",")[0]!)

/** A report's flags against the server at `url`, with a deadline that the server's short latencies meet. */
const against = (url: string) => [
  "--emissions-url", url, "--governance-url", url, "--db-latency", "10ms", "--timeout", "1s", "--samples", "2000"
]

interface Company {
  readonly ticker: string
  readonly status: string
  readonly cached: boolean
}

interface Summary {
  readonly requested: number
  readonly scored: number
  readonly partial: boolean
  readonly elapsedMs: number
  readonly gate: string
  readonly longestPermitWaitMs: number
  readonly apiCalls: number
  readonly metrics: { readonly turnsAgain: number }
  readonly gateLost?: string
}

/** A CLI process with the team's store: what it printed so far, and its exit. */
interface Running {
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Effect.Effect<number | null>
  readonly kill: () => void
}

/** `node dist/main.js ARGS` with `ESG_STORE_URL=store`, killed when the scope closes. */
const startCli = (args: ReadonlyArray<string>, store: string) =>
  Effect.acquireRelease(
    Effect.sync((): Running => {
      // nothing of the developer's own settings: the run's store is the test's
      const { ESG_CACHE: _cache, ESG_STORE_URL: _store, ...env } = process.env
      const child = spawn(process.execPath, ["dist/main.js", ...args], { env: { ...env, ESG_STORE_URL: store } })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk) => (stdout += chunk))
      child.stderr.on("data", (chunk) => (stderr += chunk))
      const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      return { stdout: () => stdout, stderr: () => stderr, exited: Effect.promise(() => exit), kill: () => child.kill("SIGKILL") }
    }),
    (running) => Effect.sync(running.kill)
  )

/** Waits for the process's exit (bounded: a process that hangs fails the test). */
const finish = (running: Running, seconds = 90) =>
  running.exited.pipe(Effect.timeoutFail({ duration: `${seconds} seconds`, onTimeout: () => new Error(`hung: ${running.stderr()}`) }))

/** Waits until `check` holds, as bounded. */
const until = (check: () => boolean, what: string) =>
  Effect.sync(check).pipe(
    Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error(`never: ${what}`) })
  )

const companiesOf = (json: string): ReadonlyArray<Company> => JSON.parse(json).companies
/** The company lines of an NDJSON report so far (the summary line comes last). */
const companyLines = (text: string): ReadonlyArray<Company> =>
  text.split("\n").filter((line) => line.startsWith("{\"input\"")).map((line) => JSON.parse(line))

layer(PgCluster.layer, { timeout: "180 seconds", excludeTestServices: true })("a team on one store", (it) => {
  it.scoped("three analysts at once: never more than 2 calls in flight at the provider, each company reported once, none starved, scores reused", () =>
    Effect.gen(function*() {
      const store = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const server = yield* serveProviders(["--latency-emissions", "80ms", "--latency-governance", "60ms"])
      // overlapping portfolios: 0-29, 10-39, 20-49
      const lists = [0, 1, 2].map((p) => tickers.slice(p * 10, p * 10 + 30))
      const runs = yield* Effect.forEach(lists, (list) => startCli([...against(server.url), "--format", "json", ...list], store))
      const codes = yield* Effect.forEach(runs, (run) => finish(run), { concurrency: "unbounded" })
      const stats = yield* server.stats

      // never more than 2 at the provider, and 2 reached: the three processes did contend
      assert.strictEqual(stats.maxConcurrent, 2)
      const fetchedBy = new Map<string, number>()
      let apiCalls = 0
      let turnsAgain = 0
      runs.forEach((run, p) => {
        assert.include([0, 3], codes[p], run.stderr())
        const report = JSON.parse(run.stdout()) as { companies: ReadonlyArray<Company>; summary: Summary }
        assert.deepStrictEqual(report.companies.map((c) => c.ticker), lists[p])
        assert.match(report.summary.gate, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/test_\d+ \(team quota [0-9a-f]+\)$/)
        assert.isAtLeast(report.summary.scored, 20, run.stderr())
        // none starved: no process waited for a permit for most of its run
        assert.isBelow(report.summary.longestPermitWaitMs, report.summary.elapsedMs / 2)
        for (const company of report.companies) {
          if (!company.cached) fetchedBy.set(company.ticker, (fetchedBy.get(company.ticker) ?? 0) + 1)
        }
        apiCalls += report.summary.apiCalls
        turnsAgain += report.summary.metrics.turnsAgain
      })
      // the team reused what it had: 50 tickers in 90 company runs (64 fetches measured at the acceptance check's latencies; two runs reaching a company at once both fetch it)
      const fetched = [...fetchedBy.values()].reduce((a, b) => a + b, 0)
      assert.isAtMost(fetched, 75)
      // what the processes counted is what the provider received (a company that took its turn again sent more)
      assert.strictEqual(stats.requests, apiCalls)
      assert.isAtLeast(stats.requests, 2 * fetched)
      assert.isAtMost(stats.requests, 2 * (fetched + turnsAgain))
    }))

  it.scoped("a score another analyst stored before this run reached its company is reused, not fetched again", () =>
    Effect.gen(function*() {
      const store = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const server = yield* serveProviders(["--latency-emissions", "150ms", "--latency-governance", "100ms"])
      const list = tickers.slice(0, 8)
      const first = yield* startCli([...against(server.url), "--format", "ndjson", ...list], store)
      // the second analyst starts once the first has four scores
      const scored = () => companyLines(first.stdout()).filter((c) => c.status === "scored")
      yield* until(() => scored().length >= 4, "four scores")
      const storedBefore = scored().map((c) => c.ticker)
      const second = yield* startCli([...against(server.url), "--format", "json", ...list], store)
      yield* finish(first)
      yield* finish(second)
      const reused = companiesOf(second.stdout())
      for (const ticker of storedBefore) assert.isTrue(reused.find((c) => c.ticker === ticker)?.cached, ticker)
      // and what the first stored while the second ran, the second reused as it reached it
      const fetchedTwice = list.filter((ticker) =>
        companyLines(first.stdout()).some((c) => c.ticker === ticker && !c.cached) &&
        reused.some((c) => c.ticker === ticker && !c.cached)
      )
      assert.isAtMost(fetchedTwice.length, 2, fetchedTwice.join(","))
    }))

  it.scoped("an analyst killed while it holds permits: the other gets them back and finishes; the provider never sees more than 2", () =>
    Effect.gen(function*() {
      const store = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const server = yield* serveProviders(["--latency-emissions", "300ms", "--latency-governance", "250ms"])
      const victim = yield* startCli([...against(server.url), "--format", "json", ...tickers.slice(0, 20)], store)
      const survivor = yield* startCli([...against(server.url), "--format", "json", ...tickers.slice(20, 40)], store)
      // killed mid-run, while the team's calls are in flight
      yield* Effect.sleep("2 seconds")
      victim.kill()
      yield* finish(survivor)
      const report = JSON.parse(survivor.stdout()) as { companies: ReadonlyArray<Company>; summary: Summary }
      assert.deepStrictEqual(report.companies.map((c) => c.ticker), tickers.slice(20, 40))
      assert.isAtLeast(report.summary.scored, 15, survivor.stderr())
      assert.isAtMost((yield* server.stats).maxConcurrent, 2)
    }))

  it.scoped("PostgreSQL stopped mid-run: the partial report, one line naming the store, exit 4, within seconds", () =>
    Effect.gen(function*() {
      // a cluster of its own: this one is stopped
      const cluster = yield* PgCluster.make
      const server = yield* serveProviders(["--latency-emissions", "150ms", "--latency-governance", "100ms"])
      const run = yield* startCli([...against(server.url), "--format", "ndjson", ...tickers.slice(0, 30)], cluster.url)
      yield* until(() => companyLines(run.stdout()).length >= 3, "three companies")
      yield* cluster.stop
      const stoppedAt = performance.now()
      const code = yield* finish(run, 30)
      assert.isBelow(performance.now() - stoppedAt, 10_000)
      assert.strictEqual(code, 4, run.stderr())
      const lines = run.stdout().trim().split("\n")
      const summary = JSON.parse(lines.at(-1)!).summary as Summary
      assert.isTrue(summary.partial)
      // every company asked for is counted; those that finished are the lines
      assert.strictEqual(summary.requested, 30)
      const finished = companyLines(run.stdout()).length
      assert.isAtLeast(finished, 3)
      assert.isBelow(finished, 30)
      const notices = run.stderr().split("\n").filter((line) => line.startsWith("esg-aggregator:"))
      assert.strictEqual(notices.length, 1, run.stderr())
      assert.match(
        notices[0]!,
        new RegExp(`^esg-aggregator: API gate unavailable: postgres://postgres@127\\.0\\.0\\.1:${cluster.port}/postgres: .+: partial report, ${finished} of 30 companies finished$`)
      )
      assert.strictEqual(summary.gateLost, notices[0]!.slice("esg-aggregator: ".length).replace(/: partial report.*$/, ""))
    }))

  it.effect("a store that is no PostgreSQL URL, or one beside --cache, is a usage error; one that cannot be reached fails in seconds", () =>
    Effect.gen(function*() {
      const cluster = yield* PgCluster.Cluster
      const notUrl = yield* runBuiltCli(["--in-process", "--store", "http://example.com/db", "AAPL"])
      assert.strictEqual(notUrl.code, 2)
      assert.strictEqual(notUrl.stderr, "esg-aggregator: --store: expected a postgres:// or postgresql:// URL (see --help)\n")
      const both = yield* runBuiltCli(["--in-process", "--cache", "x.db", "AAPL"], { env: { ESG_STORE_URL: cluster.url } })
      assert.strictEqual(both.code, 2)
      assert.strictEqual(both.stderr, "esg-aggregator: --cache and --store (ESG_STORE_URL) both name where scores are kept: give one (see --help)\n")
      // ESG_CACHE in an analyst's profile is replaced by the team's store, not a conflict
      const profile = yield* runBuiltCli(["--in-process", "--samples", "0", "--format", "json", "AAPL"], {
        env: { ESG_STORE_URL: yield* cluster.database, ESG_CACHE: "default" }
      })
      assert.strictEqual(profile.code, 0, profile.stderr)
      assert.match(JSON.parse(profile.stdout).summary.cache, /^postgres:\/\//)
      const nowhere = `postgres://postgres:secret@127.0.0.1:${cluster.port + 1}/none`
      const started = performance.now()
      const unreachable = yield* runBuiltCli(["--in-process", "--store", nowhere, "AAPL"])
      assert.isBelow(performance.now() - started, 15_000)
      assert.strictEqual(unreachable.code, 4)
      assert.match(unreachable.stderr, new RegExp(`^esg-aggregator: (score cache|API gate) unavailable: postgres://postgres@127\\.0\\.0\\.1:${cluster.port + 1}/none: [^\\n]+\\n$`))
      assert.notInclude(unreachable.stderr, "secret")
    }))
})
