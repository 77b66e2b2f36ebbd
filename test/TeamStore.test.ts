/**
 * The score store shared in PostgreSQL (a throwaway cluster): the same
 * store as the SQLite file, over `@effect/sql-pg`. Each application below
 * has its own client, as a process would. Real time, short latencies.
 */
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import * as App from "../src/App.js"
import { FundamentalsData, Scored, type Ticker } from "../src/Domain.js"
import { ScoreStore } from "../src/ScoreStore.js"
import * as TeamStore from "../src/team/TeamStore.js"
import * as PgCluster from "./fixtures/PgCluster.js"
import { seedNames, universe } from "./fixtures/Scenario.js"

const fast = { fundamentals: "5 millis", emissions: "10 millis", governance: "10 millis" } as const

/** One run, as one process makes it: its own application and client, closed (and flushed) at the end. */
const runOnce = (url: string, inputs: ReadonlyArray<string>, maxAge: Duration.DurationInput = "1 hour") =>
  Effect.flatMap(Aggregator, (aggregator) => aggregator.run(inputs)).pipe(
    Effect.provide(App.layer({ records: universe, config: { samples: 0, latency: fast, maxAge }, store: TeamStore.layer(url) }))
  )

layer(PgCluster.layer, { timeout: "60 seconds", excludeTestServices: true })("the score store in PostgreSQL", (it) => {
  it.effect("a score one process writes is reused by another within its max age, and not after", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const first = yield* runOnce(url, seedNames)
      assert.strictEqual(first.summary.apiCalls, 10)
      assert.strictEqual(first.summary.cache, url)

      const second = yield* runOnce(url, seedNames)
      assert.strictEqual(second.summary.apiCalls, 0)
      assert.strictEqual(second.summary.cached, 5)
      assert.deepStrictEqual(
        second.outcomes.map((o) => (o._tag === "Scored" ? o.score : undefined)),
        first.outcomes.map((o) => (o._tag === "Scored" ? o.score : undefined))
      )
      yield* Effect.sleep("20 millis")
      const stale = yield* runOnce(url, seedNames, "10 millis")
      assert.strictEqual(stale.summary.apiCalls, 10)
      assert.strictEqual(stale.summary.cached, 0)
    }))

  it.scoped("writers of the same tickers at once keep each ticker's newest score, whole, and lose none", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const [base] = (yield* runOnce(url, ["Apple"])).outcomes
      assert.instanceOf(base, Scored)
      if (!(base instanceof Scored)) return
      const tickers = Array.from({ length: 40 }, (_, i) => `T${i}` as Ticker)
      const now = Date.now()
      // writer A's score is the newer for even tickers, writer B's for odd ones; they write in opposite orders
      const scoreOf = (writer: "A" | "B", i: number) =>
        [
          new Scored({ ...base, input: `${writer}${i}`, fundamentals: new FundamentalsData({ ...base.fundamentals, ticker: tickers[i]! }) }),
          now - 1000 + (writer === "A" ? (i % 2 === 0 ? 1 : 0) : (i % 2 === 0 ? 0 : 1))
        ] as const
      const writer = (name: "A" | "B") =>
        Effect.flatMap(ScoreStore, (store) => {
          const order = tickers.map((_, i) => i)
          return Effect.forEach(name === "A" ? order : order.reverse(), (i) => store.save(...scoreOf(name, i)), { discard: true })
        }).pipe(Effect.provide(TeamStore.layer(url)))
      yield* Effect.all([writer("A"), writer("B")], { concurrency: 2, discard: true })

      const found = yield* Effect.flatMap(ScoreStore, (store) => store.fresh(tickers, Duration.hours(1))).pipe(
        Effect.provide(TeamStore.layer(url))
      )
      assert.strictEqual(found.size, 40)
      tickers.forEach((ticker, i) => {
        const [expected, at] = scoreOf(i % 2 === 0 ? "A" : "B", i)
        const kept = found.get(ticker)
        assert.strictEqual(kept?.scoredAt, at)
        assert.strictEqual(kept?.scored.input, expected.input)
        assert.deepStrictEqual(kept?.scored.score, base.score)
      })
    }))

  it.effect("a server that cannot be reached fails the store with one reason that names it, within seconds", () =>
    Effect.gen(function*() {
      const cluster = yield* PgCluster.Cluster
      const url = `postgres://postgres@127.0.0.1:${cluster.port + 1}/none`
      const error = yield* Layer.build(TeamStore.layer(url)).pipe(Effect.scoped, Effect.flip, Effect.timeout("15 seconds"))
      assert.strictEqual(error._tag, "ScoreStoreUnavailable")
      assert.match(error.message, new RegExp(`^score cache unavailable: postgres://postgres@127\\.0\\.0\\.1:${cluster.port + 1}/none: `))
      assert.notInclude(error.message, "\n")
    }))
})
