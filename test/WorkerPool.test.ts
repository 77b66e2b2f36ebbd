/**
 * The worker path, for real: worker threads running the bundled entry
 * (`dist/worker.js`, built by `npm run build`, which `npm test` runs first)
 * over a real SQLite file. Real time, so `it.live`; no wall-clock bounds.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Fiber, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type Ticker, ScoreInput } from "../src/Domain.js"
import { toEmissionData } from "../src/Emissions.js"
import { Fundamentals, toFundamentals, layerOnWorkers as FundamentalsOnWorkers } from "../src/Fundamentals.js"
import { toGovernanceRating } from "../src/Governance.js"
import { ScoreEngine, layerOnWorkers as ScoreOnWorkers } from "../src/ScoreEngine.js"
import { createDatabase } from "../src/universe/Database.js"
import { poolFailure } from "../src/cli/App.js"
import { LookupFundamentals, ScoreCompany } from "../src/worker/Protocol.js"
import { Universe } from "../src/universe/Universe.js"
import { DatabaseWorkers, layerShared, makePool, ScoringWorkers, WorkerStartError } from "../src/worker/WorkerPool.js"
import { universe } from "./fixtures/Scenario.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-workers-"))
const dbPath = path.join(dir, "universe.db")
createDatabase(dbPath, universe, { synthetic: "true", source: "test" })

const inputOf = (index: number) => {
  const record = universe[index]!
  return new ScoreInput({
    fundamentals: toFundamentals(record),
    emissions: toEmissionData(record),
    governance: toGovernanceRating(record)
  })
}

const fundamentalsOnWorkers = (options: { readonly size?: number; readonly dbLatencyMs?: number; readonly entry?: string } = {}) =>
  FundamentalsOnWorkers(dbPath).pipe(
    Layer.provide(Layer.merge(
      DatabaseWorkers.layer({
        size: options.size ?? 2,
        dbPath,
        dbLatency: options.dbLatencyMs ?? 0,
        ...(options.entry === undefined ? {} : { entry: options.entry })
      }),
      Universe.layerFromDatabase(dbPath)
    ))
  )

/** Fails fast, instead of at the runner's timeout, when `effect` does not finish within `seconds`. */
const within = (seconds: number, what: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutFail(effect, { duration: `${seconds} seconds`, onTimeout: () => new Error(`${what}: not within ${seconds} s`) })

const startError = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    assert.isTrue(Exit.isFailure(exit), "start-up should fail")
    const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
    assert.instanceOf(error, WorkerStartError, String(error))
    return (error as WorkerStartError).message
  })

describe("WorkerPool", () => {
  it.live("a pool started on demand is there at once; its first request starts it and waits for its workers", () =>
    Effect.gen(function*() {
      const pool = yield* ScoringWorkers
      // the entry takes a second to start: the layer was built without waiting for it
      const started = yield* Effect.fork(pool.started)
      assert.isTrue(Option.isNone(yield* Fiber.poll(started)), "the pool was up before its layer returned")
      const apple = yield* pool.executeEffect(new LookupFundamentals({ ticker: "AAPL" as Ticker })).pipe(within(20, "the lookup"))
      assert.strictEqual(apple.name, "Apple Inc.")
      yield* Fiber.join(started)
    }).pipe(Effect.provide(ScoringWorkers.layerOnDemand({
      size: 1,
      dbPath,
      dbLatency: 0,
      entry: fileURLToPath(new URL("./fixtures/slow-worker.mjs", import.meta.url))
    }))))

  it.live("a pool that cannot start is not started until asked; then it fails its requests and the run's watch of it", () =>
    Effect.gen(function*() {
      const pool = yield* ScoringWorkers
      const watch = yield* Effect.fork(poolFailure)
      // a missing entry fails its start at once: had the layer started the pool, the watch would have ended
      yield* Effect.sleep("100 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(watch)), "the pool started before anything asked for it")
      const lookup = yield* Effect.flip(pool.executeEffect(new LookupFundamentals({ ticker: "AAPL" as Ticker })))
      assert.strictEqual(lookup._tag, "WorkerStartError")
      const watched = yield* Effect.flip(poolFailure)
      assert.strictEqual(watched.message, `worker entry not found: ${path.join(dir, "missing.mjs")} (run npm run build)`)
    }).pipe(
      Effect.provide(ScoringWorkers.layerOnDemand({ size: 1, dbPath, entry: path.join(dir, "missing.mjs") })),
      within(20, "the failed start")
    ))

  it.live("one shared pool serves the lookups and the scores on the same threads, started by the first request", () =>
    Effect.gen(function*() {
      const database = yield* DatabaseWorkers
      const scoring = yield* ScoringWorkers
      assert.strictEqual(database, scoring)
      assert.strictEqual(database.threads(), 0, "a thread started before any request")
      const apple = yield* database.executeEffect(new LookupFundamentals({ ticker: "AAPL" as Ticker }))
      assert.strictEqual(apple.name, "Apple Inc.")
      const score = yield* scoring.executeEffect(new ScoreCompany({ input: inputOf(0) }))
      assert.isAbove(score.value, 0)
      assert.strictEqual(database.threads(), 1)
    }).pipe(Effect.provide(layerShared({ size: 1, dbPath, dbLatency: 0, samples: 1000 })), within(20, "the shared pool")))

  it.live("looks fundamentals up in SQLite on worker threads and resolves names on this thread, through the database's universe", () =>
    Effect.gen(function*() {
      const fundamentals = yield* Fundamentals
      const resolved = yield* fundamentals.resolve(["Apple", "msft", "Nonexistent Widgets", "Aple"])
      assert.deepStrictEqual(resolved.map((r) => Either.isRight(r) ? r.right : r.left.message), [
        "AAPL",
        "MSFT",
        "Unknown company: Nonexistent Widgets",
        "Unknown company: Aple (did you mean Apple Inc. (AAPL)?)"
      ])
      const apple = yield* fundamentals.fetch("AAPL" as Ticker)
      assert.deepStrictEqual(apple, toFundamentals(universe[0]!))
      const missing = yield* Effect.flip(fundamentals.fetch("ZZZZ" as Ticker))
      assert.strictEqual(missing._tag, "SourceError")
      assert.strictEqual(missing.reason, "not in the database")
      // the public constructor: the database's path once, its own threads and universe
    }).pipe(Effect.provide(Fundamentals.layerDatabase(dbPath, { workers: 2, latency: 0 }))))

  it.live("a blocking lookup blocks its worker, not the main event loop", () =>
    Effect.gen(function*() {
      const fundamentals = yield* Fundamentals
      let ticks = 0
      const timer = setInterval(() => ticks++, 10)
      yield* fundamentals.fetch("TSLA" as Ticker)
      clearInterval(timer)
      // a 300 ms block on this thread would have let no timer callback run until it ended
      assert.isAtLeast(ticks, 5)
    }).pipe(Effect.provide(fundamentalsOnWorkers({ dbLatencyMs: 300 }))))

  it.live("a missing database fails start-up with one clear error, before any thread starts", () =>
    Effect.gen(function*() {
      const message = yield* startError(
        Effect.scoped(makePool({ size: 2, dbPath: path.join(dir, "nope.db") }))
      )
      assert.strictEqual(message, `database not found: ${path.join(dir, "nope.db")}`)
      const notSqlite = path.join(dir, "not.db")
      fs.writeFileSync(notSqlite, "hello")
      assert.strictEqual(yield* startError(Effect.scoped(makePool({ size: 1, dbPath: notSqlite }))), `not an SQLite database: ${notSqlite}`)
    }))

  it.live("a missing worker entry fails start-up with one clear error", () =>
    Effect.gen(function*() {
      const entry = path.join(dir, "missing-worker.js")
      const message = yield* startError(Effect.scoped(makePool({ size: 1, dbPath, entry })))
      assert.match(message, /^worker entry not found: .*missing-worker\.js \(run npm run build\)$/)
    }))

  it.live("an SQLite file that is not a universe database fails start-up with one clear error", () =>
    Effect.gen(function*() {
      const foreign = path.join(dir, "foreign.db")
      createDatabase(foreign, [], { synthetic: "true" })
      const Database = (yield* Effect.promise(() => import("better-sqlite3"))).default
      const db = new Database(foreign)
      db.exec("DROP TABLE companies")
      db.close()
      const message = yield* startError(Effect.scoped(makePool({ size: 1, dbPath: foreign })))
      assert.strictEqual(message, `${foreign} is not an esg-aggregator database (missing table companies)`)
    }))

  it.live("a worker that fails after the checks is reported within the start-up bound, not respawned forever", () =>
    Effect.gen(function*() {
      // an entry that dies at once: the pool would respawn it every second, forever
      const dying = path.join(dir, "dying-worker.mjs")
      fs.writeFileSync(dying, "process.exit(3)\n")
      const message = yield* startError(Effect.scoped(makePool({ size: 1, dbPath, entry: dying, startTimeout: "2 seconds" })))
      assert.strictEqual(message, "workers did not start within 2s")
    }))

  it.live("a worker that crashes mid-request fails that company only; the pool serves the next request", () =>
    Effect.gen(function*() {
      // a test entry whose lookup of META kills the thread
      const entry = fileURLToPath(new URL("./fixtures/crashing-worker.mjs", import.meta.url))
      const layer = fundamentalsOnWorkers({ size: 1, entry })
      const results = yield* Effect.gen(function*() {
        const fundamentals = yield* Fundamentals
        const crashed = yield* Effect.flip(fundamentals.fetch("META" as Ticker))
        const after = yield* fundamentals.fetch("AMZN" as Ticker)
        return { crashed, after }
      }).pipe(Effect.provide(layer), within(20, "crash and recovery"))
      assert.strictEqual(results.crashed._tag, "SourceError")
      assert.strictEqual(results.crashed.source, "fundamentals")
      assert.match(results.crashed.reason, /^database worker failed/)
      assert.strictEqual(results.after.ticker, "AMZN")
    }))

  it.live("scores on worker threads exactly as on the main thread (same peers, same seed)", () =>
    Effect.gen(function*() {
      const options = { samples: 20_000, seed: 42 }
      const onWorkers = yield* Effect.forEach([0, 1, 2, 3, 4], (i) => Effect.flatMap(ScoreEngine, (s) => s.score(inputOf(i))), {
        concurrency: "unbounded"
      }).pipe(
        // the public constructor: the database's path once, its own threads
        Effect.provide(ScoreEngine.layerDatabase(dbPath, { workers: 2, ...options }))
      )
      const inline = yield* Effect.forEach([0, 1, 2, 3, 4], (i) => Effect.flatMap(ScoreEngine, (s) => s.score(inputOf(i)))).pipe(
        Effect.provide(ScoreEngine.layerInline({ records: universe, ...options }))
      )
      assert.deepStrictEqual(onWorkers, inline)
      assert.strictEqual(new Set(onWorkers.map((s) => s.value)).size, 5)
      assert.isTrue(onWorkers.every((s) => s.samples === 20_000))
    }))

  it.live("interrupting a score stops the simulation in its worker, which then serves the next request", () =>
    Effect.gen(function*() {
      const scorer = yield* ScoreEngine
      const long = yield* Effect.fork(scorer.score(inputOf(0)))
      yield* Effect.sleep("200 millis")
      yield* Fiber.interrupt(long)
      // one worker: this request can only be answered once the interrupted simulation has stopped
      const pool = yield* ScoringWorkers
      // without the yield between chunks the simulation would hold its worker for the better part of a minute
      const next = yield* pool.executeEffect(new LookupFundamentals({ ticker: "AAPL" as Ticker })).pipe(within(5, "the next request"))
      assert.strictEqual(next.ticker, "AAPL")
    }).pipe(
      Effect.provide(
        ScoreOnWorkers().pipe(
          // 400 million samples would take the better part of a minute without the interrupt
          Layer.provideMerge(ScoringWorkers.layer({ size: 1, dbPath, samples: 400_000_000, seed: 1 }))
        )
      )
    ))
})
