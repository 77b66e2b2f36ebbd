import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Scored, type Ticker } from "../src/Domain.js"
import { toEmissionData } from "../src/Emissions.js"
import { toFundamentals } from "../src/Fundamentals.js"
import { toGovernanceRating } from "../src/Governance.js"
import { IndexCache } from "../src/IndexCache.js"
import { buildPeerStats, scoreCompany } from "../src/ScoreModel.js"
import { universe } from "./fixtures/Scenario.js"

const peers = buildPeerStats(universe)

const scoredOf = (index: number, input = "writer") => {
  const record = universe[index]!
  const parts = {
    fundamentals: toFundamentals(record),
    emissions: toEmissionData(record),
    governance: toGovernanceRating(record)
  }
  return new Scored({ input, ...parts, score: scoreCompany(peers, parts, { samples: 0, seed: 1 }) })
}

describe("IndexCache", () => {
  it.effect("1,000 concurrent writers of distinct companies lose no update", () =>
    Effect.gen(function*() {
      const cache = yield* IndexCache
      const writes = universe.slice(0, 500).flatMap((_, i) => [scoredOf(i, "a"), scoredOf(i, "b")])
      assert.strictEqual(writes.length, 1000)
      yield* Effect.forEach(writes, (entry) => Effect.zipRight(Effect.yieldNow(), cache.put(entry)), {
        concurrency: "unbounded",
        discard: true
      })
      assert.strictEqual(yield* cache.size, 500)
      const entries = yield* cache.entries
      // every ticker was written exactly twice: both writes are counted, none overwrote the other's count
      assert.isTrue(entries.every((e) => e.revision === 2))
    }).pipe(Effect.provide(IndexCache.Default)))

  it.effect("1,000 concurrent writers of the same ten tickers keep an exact revision count", () =>
    Effect.gen(function*() {
      const cache = yield* IndexCache
      const writes = Array.from({ length: 1000 }, (_, i) => scoredOf(i % 10, `writer-${i}`))
      yield* Effect.forEach(writes, (entry) => cache.put(entry), { concurrency: "unbounded", discard: true })
      const entries = yield* cache.entries
      assert.strictEqual(entries.length, 10)
      assert.deepStrictEqual(entries.map((e) => e.revision), Array.from({ length: 10 }, () => 100))
      // an entry is never torn: the stored value is one writer's whole value
      for (const entry of entries) {
        assert.strictEqual(entry.value.fundamentals.ticker, entry.value.emissions.ticker)
        assert.strictEqual(entry.value.fundamentals.ticker, entry.value.governance.ticker)
      }
    }).pipe(Effect.provide(IndexCache.Default)))

  it.effect("get returns what was put, and nothing for other tickers", () =>
    Effect.gen(function*() {
      const cache = yield* IndexCache
      const entry = scoredOf(0)
      yield* cache.put(entry)
      const found = yield* cache.get(entry.ticker)
      assert.isTrue(Option.isSome(found) && found.value.value === entry)
      assert.isTrue(Option.isNone(yield* cache.get("NOPE" as Ticker)))
    }).pipe(Effect.provide(IndexCache.Default)))

  it.effect("lists its entries sorted by ticker, whatever the order of the writes", () =>
    Effect.gen(function*() {
      const cache = yield* IndexCache
      for (const index of [7, 2, 9, 0, 4]) yield* cache.put(scoredOf(index))
      const tickers = (yield* cache.entries).map((e) => e.value.ticker)
      assert.deepStrictEqual(tickers, [...tickers].sort())
      assert.notDeepEqual(tickers, [7, 2, 9, 0, 4].map((i) => universe[i]!.ticker))
    }).pipe(Effect.provide(IndexCache.Default)))
})
