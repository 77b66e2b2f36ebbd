/**
 * The persistent score cache: reuse within the time to live, expiry and
 * `refresh` in virtual time over a real SQLite file; then real processes:
 * two writers of one file at once, and a writer killed mid-run.
 */
import { assert, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Clock, Context, Duration, Effect, Equal, Fiber, Layer, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Aggregator } from "../src/Aggregator.js"
import type { RunOptions } from "../src/RunConfig.js"
import * as App from "../src/App.js"
import { Scored, type Ticker } from "../src/Domain.js"
import { ScoreStore, type StoredScore } from "../src/ScoreStore.js"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import { seedNames, universe } from "./fixtures/Scenario.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-store-"))

/** One run, as one process would make it: its own application over the cache file, closed (and flushed) at the end. */
const runOnce = (file: string, options: RunOptions = {}) =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const fiber = yield* Effect.fork(aggregator.run(seedNames, options))
    yield* TestClock.adjust("60 seconds")
    return yield* Fiber.join(fiber)
  }).pipe(Effect.provide(App.layer({ records: universe, config: { samples: 0 }, store: ScoreStore.layerSqlite(file) })))

describe("a score as a cache answers it", () => {
  it.effect("equals, field for field, the score the constructor makes for that input and time", () =>
    Effect.gen(function*() {
      const aggregator = yield* Aggregator
      const fiber = yield* Effect.fork(aggregator.run(["Apple"]))
      yield* TestClock.adjust("10 seconds")
      const computed = (yield* Fiber.join(fiber)).outcomes[0]!
      assert.strictEqual(computed._tag, "Scored")
      if (computed._tag !== "Scored") return
      const cached = Scored.fromCache(computed, "aapl", 1234)
      assert.instanceOf(cached, Scored)
      assert.isTrue(Equal.equals(cached, new Scored({ ...computed, input: "aapl", cachedAt: 1234 })))
      assert.strictEqual(computed.cachedAt, undefined)
      // already a cache's answer for this input: the same object, its time kept
      assert.strictEqual(Scored.fromCache(cached, "aapl", 9999), cached)
      assert.strictEqual(Scored.fromCache(cached, "Apple", 9999).cachedAt, 1234)
    }).pipe(Effect.provide(App.layer({ records: universe, config: { samples: 0 } }))))
})

describe("the persistent score cache", () => {
  it.effect("reuses a fresh score without any call, until it is older than maxAge; refresh ignores it", () =>
    Effect.gen(function*() {
      const file = path.join(dir, "ttl", "scores.db")
      const first = yield* runOnce(file)
      assert.strictEqual(first.summary.apiCalls, 10)
      assert.strictEqual(first.summary.cached, 0)

      const second = yield* runOnce(file)
      assert.strictEqual(second.summary.apiCalls, 0)
      assert.strictEqual(second.summary.cached, 5)
      assert.deepStrictEqual(second.summary.metrics, {
        apiCalls: { emissions: 0, governance: 0 },
        apiLatencyMeanMs: { emissions: 0, governance: 0 },
        retries: 0,
        timeouts: 0,
        turnsAgain: 0,
        cacheHits: 5
      })
      assert.deepStrictEqual(second.outcomes.map((o) => o._tag === "Scored" && o.score), first.outcomes.map((o) => o._tag === "Scored" && o.score))
      assert.isTrue(second.outcomes.every((o) => o._tag === "Scored" && o.cachedAt !== undefined))

      const refreshed = yield* runOnce(file, { refresh: true })
      assert.strictEqual(refreshed.summary.apiCalls, 10)
      assert.strictEqual(refreshed.summary.cached, 0)

      // the refreshed scores were written at 120 s (two runs of 60 s each); 23 h later they are still fresh
      yield* TestClock.adjust("23 hours")
      assert.strictEqual((yield* runOnce(file)).summary.cached, 5)
      // and a day after they were computed, they are not
      yield* TestClock.adjust("1 hour")
      const expired = yield* runOnce(file)
      assert.strictEqual(expired.summary.cached, 0)
      assert.strictEqual(expired.summary.apiCalls, 10)
      // a shorter maxAge asks for younger scores
      assert.strictEqual((yield* runOnce(file, { maxAge: "30 seconds" })).summary.cached, 0)
    }))
})

describe("a store other processes write to while the run goes", () => {
  it.effect("is looked at again once a company's claim is held: a score stored meanwhile is reused", () =>
    Effect.gen(function*() {
      const tesla = (yield* runOnce(path.join(dir, "tesla", "scores.db"))).outcomes.find((o) => o.input === "Tesla")
      assert.instanceOf(tesla, Scored)
      const kept = new Map<Ticker, StoredScore>()
      const memory = Layer.succeed(ScoreStore, ScoreStore.of({
          origin: "memory",
          fresh: (tickers) => Effect.succeed(new Map(tickers.flatMap((t) => (kept.has(t) ? [[t, kept.get(t)!] as const] : [])))),
          save: () => Effect.void,
          claim: () => Effect.succeed(true),
          release: () => Effect.void,
          history: () => Effect.succeed(new Map()),
          portfolioRun: () => Effect.succeed(undefined)
        }))
      const report = yield* Effect.gen(function*() {
          const aggregator = yield* Aggregator
          const fiber = yield* Effect.fork(aggregator.run(["Apple", "Microsoft", "Tesla"]))
          // Tesla is admitted at 1.2 s, once Microsoft holds both permits; another process stores its score at 0.5 s
          yield* TestClock.adjust("500 millis")
          kept.set("TSLA" as Ticker, { scored: tesla as Scored, scoredAt: 500 })
          yield* TestClock.adjust("60 seconds")
          return yield* Fiber.join(fiber)
        }).pipe(Effect.provide(App.layer({ records: universe, config: { samples: 0 }, store: memory })))
      // a claim free now may have been freed by the score's write: the look once it is held finds the score
      assert.strictEqual(report.summary.apiCalls, 4)
      assert.strictEqual(report.outcomes[2]?._tag === "Scored" ? report.outcomes[2].cachedAt : undefined, 500)
    }))
})

describe("claims: a ticker one run is fetching", () => {
  it.scoped("is held by one store at a time, given up by release or by a score's write, and taken over once stale", () =>
    Effect.gen(function*() {
      const file = path.join(dir, "claims", "scores.db")
      // two stores over one file: two runs, each its own owner
      const first = yield* Layer.build(ScoreStore.layerSqlite(file)).pipe(Effect.map((context) => Context.get(context, ScoreStore)))
      const second = yield* Layer.build(ScoreStore.layerSqlite(file)).pipe(Effect.map((context) => Context.get(context, ScoreStore)))
      const ticker = "AAPL" as Ticker
      assert.isTrue(yield* first.claim(ticker, 10_000))
      // held by its own run: claimed again, not by the other
      assert.isTrue(yield* first.claim(ticker, 10_000))
      assert.isFalse(yield* second.claim(ticker, 10_000))
      yield* first.release(ticker)
      assert.isTrue(yield* second.claim(ticker, 10_000))
      assert.isFalse(yield* first.claim(ticker, 10_000))
      // a run that died holding it: taken over once the claim is older than the bound, not before
      yield* TestClock.adjust("9 seconds")
      assert.isFalse(yield* first.claim(ticker, 10_000))
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(yield* first.claim(ticker, 10_000))
      // a score's write releases the claim of the run that wrote it
      const scored = (yield* runOnce(path.join(dir, "claims", "other.db"))).outcomes.find((o) => o._tag === "Scored")
      assert.instanceOf(scored, Scored)
      const other = scored.ticker
      assert.isTrue(yield* first.claim(other, 10_000))
      assert.isFalse(yield* second.claim(other, 10_000))
      yield* first.save(scored, yield* Clock.currentTimeMillis)
      // the writer is a fiber of the store's: given turns until the score is there (bounded)
      for (let turn = 0; turn < 1000 && !(yield* first.fresh([other], Duration.hours(1))).has(other); turn++) yield* Effect.yieldNow()
      assert.isTrue((yield* second.fresh([other], Duration.hours(1))).has(other))
      assert.isTrue(yield* second.claim(other, 10_000))
    }))
})

describe("the persistent score cache, shared by processes", () => {
  const fast = ["--in-process", "--samples", "0", "--db-latency", "0", "--latency-emissions", "5ms", "--latency-governance", "5ms"]
  const tickers = universe.slice(0, 120).map((record) => record.ticker)

  it.live("--cache default is the user's cache folder; without --cache, nothing is kept", () =>
    Effect.gen(function*() {
      const home = fs.mkdtempSync(path.join(dir, "xdg-"))
      const env = { XDG_CACHE_HOME: home }
      const plain = yield* runBuiltCli([...fast, "--format", "json", "AAPL"], { env })
      assert.strictEqual(JSON.parse(plain.stdout).summary.cache, "none")
      assert.isFalse(fs.existsSync(path.join(home, "esg-aggregator")))
      yield* runBuiltCli([...fast, "--cache", "default", "--format", "json", "AAPL"], { env })
      const again = yield* runBuiltCli([...fast, "--cache", "default", "--format", "json", "AAPL"], { env })
      const summary = JSON.parse(again.stdout).summary
      assert.strictEqual(summary.cache, path.join(home, "esg-aggregator", "scores.db"))
      assert.strictEqual(summary.cached, 1)
    }))

  it.live("two processes writing one cache at once lose nothing", () =>
    Effect.gen(function*() {
      const cache = path.join(dir, "shared.db")
      // overlapping halves: 0-79 and 40-119, started together
      const [a, b] = yield* Effect.all([
        runBuiltCli([...fast, "--cache", cache, "--format", "json", ...tickers.slice(0, 80)]),
        runBuiltCli([...fast, "--cache", cache, "--format", "json", ...tickers.slice(40)])
      ], { concurrency: "unbounded" })
      assert.strictEqual(a.code, 0, a.stderr)
      assert.strictEqual(b.code, 0, b.stderr)
      const all = yield* runBuiltCli([...fast, "--cache", cache, "--format", "json", ...tickers])
      const summary = JSON.parse(all.stdout).summary
      assert.strictEqual(summary.cached, 120)
      assert.strictEqual(summary.apiCalls, 0)
    }))

  it.live("a writer killed mid-run leaves a cache that opens clean, with what it had committed", () =>
    Effect.gen(function*() {
      const cache = path.join(dir, "killed.db")
      const killed = yield* runBuiltCli([...fast, "--cache", cache, "--format", "json", "--log-level", "debug", ...tickers], {
        // the tenth company scored: some batches committed, others queued or being written
        signalWhen: { stderr: /(message="Company scored"[^\n]*\n[^]*){10}/, signal: "SIGKILL" }
      })
      assert.strictEqual(killed.code, null)
      const db = new Database(cache, { readonly: true })
      assert.strictEqual(db.pragma("integrity_check", { simple: true }), "ok")
      const rows = (db.prepare("SELECT count(*) AS n FROM scores").get() as { n: number }).n
      db.close()
      const after = yield* runBuiltCli([...fast, "--cache", cache, "--format", "json", ...tickers])
      assert.strictEqual(after.code, 0, after.stderr)
      const summary = JSON.parse(after.stdout).summary
      assert.strictEqual(summary.scored, 120)
      assert.strictEqual(summary.cached, rows)
    }))
})
