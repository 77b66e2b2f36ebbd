import { assert, describe, it } from "@effect/vitest"
import { FastCheck, Schema } from "effect"
import { type CompanyRecord, DeductionsFromText, GovernanceDeduction, type Sector, sectors } from "../src/Domain.js"
import {
  generateUniverse,
  governanceKeyIssues,
  sampleUniverse as makeSample,
  seedTickers,
  UNIVERSE_SEED
} from "../src/universe/SampleUniverse.js"

const sampleUniverse = makeSample()
const parseDeductions = Schema.decodeSync(DeductionsFromText)
const formatDeductions = Schema.encodeSync(DeductionsFromText)

const intensity = (r: CompanyRecord): number => (r.scope1Tco2e + r.scope2Tco2e) / r.revenueUsdM

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 0 ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[mid]!
}

const bySector = (universe: ReadonlyArray<CompanyRecord>): Map<Sector, Array<CompanyRecord>> => {
  const groups = new Map<Sector, Array<CompanyRecord>>(sectors.map((s) => [s, []]))
  for (const r of universe) groups.get(r.sector)!.push(r)
  return groups
}

describe("SampleUniverse", () => {
  it("is generated once and kept", () => {
    assert.strictEqual(makeSample(), sampleUniverse)
  })

  it("is deterministic for a seed and size", () => {
    assert.deepStrictEqual(generateUniverse(), generateUniverse())
    assert.deepStrictEqual(generateUniverse({ seed: UNIVERSE_SEED, size: 500 }), sampleUniverse)
    assert.deepStrictEqual(generateUniverse({ seed: 7, size: 120 }), generateUniverse({ seed: 7, size: 120 }))
  })

  it("has 500 companies by default and honours size", () => {
    assert.strictEqual(sampleUniverse.length, 500)
    assert.strictEqual(generateUniverse({ size: 42 }).length, 42)
    assert.strictEqual(generateUniverse({ size: 0 }).length, 0)
    assert.deepStrictEqual(
      generateUniverse({ size: 3 }).map((r) => r.ticker),
      seedTickers.slice(0, 3)
    )
    assert.throws(() => generateUniverse({ size: -1 }), RangeError)
    assert.throws(() => generateUniverse({ size: 2.5 }), RangeError)
  })

  it("has unique tickers and unique names", () => {
    for (const universe of [sampleUniverse, generateUniverse({ seed: 1, size: 3000 })]) {
      assert.strictEqual(new Set(universe.map((r) => r.ticker)).size, universe.length)
      assert.strictEqual(new Set(universe.map((r) => r.name)).size, universe.length)
    }
  })

  it("gives synthetic companies 3-5 letter tickers", () => {
    for (const r of sampleUniverse.slice(seedTickers.length)) {
      assert.match(r.ticker, /^[A-Z]{3,5}$/)
    }
  })

  it("opens with the five seed companies, whatever the seed", () => {
    const expected = [
      ["AAPL", "Apple Inc.", "Information Technology"],
      ["MSFT", "Microsoft Corporation", "Information Technology"],
      ["META", "Meta Platforms, Inc.", "Communication Services"],
      ["AMZN", "Amazon.com, Inc.", "Consumer Discretionary"],
      ["TSLA", "Tesla, Inc.", "Consumer Discretionary"]
    ]
    assert.deepStrictEqual(
      sampleUniverse.slice(0, 5).map((r) => [r.ticker, r.name, r.sector]),
      expected
    )
    assert.deepStrictEqual(generateUniverse({ seed: 99, size: 50 }).slice(0, 5), sampleUniverse.slice(0, 5))
    for (const r of sampleUniverse.slice(0, 5)) {
      assert.strictEqual(r.uncertaintyPct, 5)
      assert.strictEqual(r.reportingYear, 2024)
    }
  })

  it("gives the seed five distinct intensities and governance scores", () => {
    const seeds = sampleUniverse.slice(0, 5)
    assert.strictEqual(new Set(seeds.map(intensity)).size, 5)
    assert.strictEqual(new Set(seeds.map((r) => r.governanceScore)).size, 5)
    const meta = seeds.find((r) => r.ticker === "META")!
    assert.isTrue(meta.governanceDeductions.some((d) => d.keyIssue === "ownership & control"))
  })

  it("puts at least 20 companies in every sector", () => {
    for (const [sector, companies] of bySector(sampleUniverse)) {
      assert.isAtLeast(companies.length, 20, sector)
    }
  })

  it("orders sector carbon-intensity medians plausibly", () => {
    const medians = new Map([...bySector(sampleUniverse)].map(([s, rs]) => [s, median(rs.map(intensity))]))
    const m = (s: Sector) => medians.get(s)!
    assert.isAbove(m("Utilities"), m("Information Technology"))
    assert.isAbove(m("Information Technology"), m("Financials"))
    assert.isAbove(m("Energy"), m("Industrials"))
    assert.isAbove(m("Materials"), m("Health Care"))
    assert.isAbove(m("Utilities"), 500)
    assert.isBelow(m("Financials"), 10)
  })

  it("keeps synthetic figures in range", () => {
    for (const r of sampleUniverse.slice(seedTickers.length)) {
      assert.isAtLeast(r.marketCapUsd, 1e9)
      assert.isAtMost(r.marketCapUsd, 5e11)
      assert.isTrue(Number.isInteger(r.marketCapUsd))
      assert.isTrue(Number.isInteger(r.scope1Tco2e) && Number.isInteger(r.scope2Tco2e))
      assert.strictEqual(r.revenueUsdM, Math.round(r.revenueUsdM * 10) / 10)
      assert.isTrue(r.uncertaintyPct === 5 || (r.uncertaintyPct >= 15 && r.uncertaintyPct <= 40))
    }
    const reported = sampleUniverse.filter((r) => r.uncertaintyPct === 5).length / sampleUniverse.length
    assert.isAbove(reported, 0.6)
    assert.isBelow(reported, 0.8)
  })

  it("derives every governance score from its deductions", () => {
    for (const r of sampleUniverse) {
      const deductions = r.governanceDeductions
      assert.isAtMost(deductions.length, 4)
      assert.strictEqual(new Set(deductions.map((d) => d.keyIssue)).size, deductions.length)
      const lost = deductions.reduce((sum, d) => sum + d.points, 0)
      const expected = Math.round(Math.min(10, Math.max(0, 10 - lost)) * 10) / 10
      assert.approximately(r.governanceScore, expected, 1e-9, r.ticker)
    }
    assert.isTrue(sampleUniverse.some((r) => r.governanceDeductions.length === 0 && r.governanceScore === 10))
  })

  it("draws different synthetic companies for a different seed", () => {
    const other = generateUniverse({ seed: UNIVERSE_SEED + 1 })
    const names = new Set(sampleUniverse.slice(5).map((r) => r.name))
    const shared = other.slice(5).filter((r) => names.has(r.name)).length
    assert.isBelow(shared, 100)
    assert.notDeepEqual(other.slice(5).map(intensity), sampleUniverse.slice(5).map(intensity))
  })

  it("parses what it formats", () => {
    assert.deepStrictEqual(parseDeductions(""), [])
    assert.strictEqual(formatDeductions([]), "")
    assert.strictEqual(
      formatDeductions([
        new GovernanceDeduction({ keyIssue: "ownership & control", points: 3.5 }),
        new GovernanceDeduction({ keyIssue: "pay", points: 1 })
      ]),
      "ownership & control:3.5;pay:1"
    )
    assert.throws(() => parseDeductions("pay"))
    assert.throws(() => parseDeductions("pay:"))
    assert.throws(() => parseDeductions("pay:1;"))
    assert.throws(() => parseDeductions("pay:x"))
    assert.throws(() => parseDeductions("garbage"))
    // points are 0 to 10
    assert.throws(() => parseDeductions("pay:-4"))
    assert.throws(() => parseDeductions("pay:99"))
  })

  it.prop(
    "round-trips deductions",
    [
      FastCheck.array(
        FastCheck.record({
          keyIssue: FastCheck.constantFrom(...governanceKeyIssues),
          points: FastCheck.integer({ min: 0, max: 100 }).map((tenths) => tenths / 10)
        }),
        { maxLength: 6 }
      )
    ],
    ([ds]) => {
      const parsed = parseDeductions(formatDeductions(ds.map((d) => new GovernanceDeduction(d))))
        .map((d) => ({ keyIssue: d.keyIssue, points: d.points }))
      assert.deepStrictEqual(parsed, ds)
    }
  )
})
