/**
 * The portfolio's figures on holdings worked out by hand, and the
 * properties they keep whatever the holdings.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import {
  DataIncomplete,
  EmissionData,
  FundamentalsData,
  GovernanceRating,
  pcafGrade,
  PillarWeights,
  type Rating,
  Score,
  Scored,
  ScoreInterval,
  type Sector,
  Skipped,
  type Ticker
} from "../src/Domain.js"
import { type Holdings, portfolioFigures, type Position } from "../src/Portfolio.js"

/** A scored company with round figures: scope 1 + 2 emissions, revenue in $M, market cap in USD, a score. */
const company = (
  ticker: string,
  sector: Sector,
  figures: { readonly tonnes: number; readonly revenueM: number; readonly marketCap: number; readonly score: number; readonly rating: Rating },
  cachedAt?: number
) =>
  new Scored({
    input: ticker,
    fundamentals: new FundamentalsData({ ticker: ticker as Ticker, name: `${ticker} Inc.`, sector, marketCapUsd: figures.marketCap, revenueUsdM: figures.revenueM }),
    emissions: new EmissionData({ ticker: ticker as Ticker, scope1Tco2e: figures.tonnes, scope2Tco2e: 0, uncertaintyPct: 10, reportingYear: 2024 }),
    governance: new GovernanceRating({ ticker: ticker as Ticker, score: 7, deductions: [] }),
    score: new Score({
      value: figures.score,
      rating: figures.rating,
      environmental: figures.score,
      governance: 7,
      weights: new PillarWeights({ environmental: 0.5, governance: 0.5 }),
      weightedAverage: figures.score,
      interval: new ScoreInterval({ low: figures.score, high: figures.score }),
      stability: 1,
      samples: 0
    }),
    ...(cachedAt === undefined ? {} : { cachedAt })
  })

// Four holdings, by value: A $40M, B $30M, C $20M (skipped: its data missed the deadline), D $10M (a cached score).
//   A: 1,000 t on $100M revenue = 10 t/$M; market cap $1,000M; score 8.0 (AA)
//   B: 6,000 t on $200M revenue = 30 t/$M; market cap $300M;   score 4.0 (BB)
//   D: 500 t on $10M revenue    = 50 t/$M; market cap $50M;    score 2.0 (B)
// Weights: A 0.4, B 0.3, C 0.2, D 0.1; the scored ones hold 0.8 of the weight, 3 of 4 holdings.
// WACI over the scored weight: (0.4 × 10 + 0.3 × 30 + 0.1 × 50) / 0.8 = (4 + 9 + 5) / 0.8 = 22.5 t/$M revenue.
// Financed: 40/1000 × 1,000 + 30/300 × 6,000 + 10/50 × 500 = 40 + 600 + 100 = 740 t; on $80M covered: 9.25 t/$M invested.
// Score: (0.4 × 8 + 0.3 × 4 + 0.1 × 2) / 0.8 = (3.2 + 1.2 + 0.2) / 0.8 = 5.75: an A (seven bands of 10/7; A is 5.71 to 7.14).
const a = company("AAA1", "Information Technology", { tonnes: 1000, revenueM: 100, marketCap: 1_000e6, score: 8, rating: "AA" })
const b = company("BBB1", "Utilities", { tonnes: 6000, revenueM: 200, marketCap: 300e6, score: 4, rating: "BB" })
const d = company("DDD1", "Utilities", { tonnes: 500, revenueM: 10, marketCap: 50e6, score: 2, rating: "B" }, 1_000)
const c = new Skipped({ input: "CCC1", ticker: "CCC1" as Ticker, reason: new DataIncomplete(), missing: ["emissions"] })
const position = (ticker: string, amount: number): Position => ({ input: ticker, ticker: ticker as Ticker, amount })
const byValue: Holdings = {
  basis: "value",
  positions: [position("AAA1", 40e6), position("BBB1", 30e6), position("CCC1", 20e6), position("DDD1", 10e6)]
}
const outcomes = [a, b, c, d]

const close = (actual: number, expected: number, what: string) => assert.approximately(actual, expected, 1e-9, what)

describe("the portfolio's figures, worked out by hand", () => {
  const figures = portfolioFigures(byValue, outcomes)

  it("WACI, financed emissions and footprint over the scored holdings, with their coverage", () => {
    close(figures.waci!.value, 22.5, "waci")
    close(figures.financedEmissions!.value, 740, "financed")
    close(figures.carbonFootprint!.value, 9.25, "footprint")
    close(figures.coverage.weight, 0.8, "coverage by weight")
    close(figures.coverage.holdings, 0.75, "coverage by holdings")
    close(figures.coverage.cached.weight, 0.1, "cached by weight")
    close(figures.coverage.skipped["data-incomplete"]!.weight, 0.2, "skipped by weight")
    assert.include(figures.financedEmissions!.attribution, "market capitalisation")
    close(figures.weightSum, 100e6, "the values as read")
  })

  it("the weighted score and its rating, the rating mix, sectors, contributors and lowest rated", () => {
    assert.ok(!("withheld" in figures.score))
    if (!("withheld" in figures.score)) {
      close(figures.score.value, 5.75, "score")
      assert.strictEqual(figures.score.rating, "A")
      assert.isNull(figures.score.interval)
    }
    close(figures.ratingMix.ratings.AA, 0.4, "AA")
    close(figures.ratingMix.ratings.BB, 0.3, "BB")
    close(figures.ratingMix.ratings.B, 0.1, "B")
    close(figures.ratingMix.leaders, 0.4, "leaders")
    close(figures.ratingMix.average, 0.3, "average")
    close(figures.ratingMix.laggards, 0.1, "laggards")
    close(figures.ratingMix.unrated, 0.2, "unrated")
    // Utilities: B and D, 0.4 of the weight, score (0.3 × 4 + 0.1 × 2) / 0.4 = 3.5, WACI (9 + 5) / 0.8 = 17.5;
    // Information Technology: A, 0.4 too (equal weights go by name), score 8, WACI 4 / 0.8 = 5
    assert.deepStrictEqual(figures.sectors.map((s) => s.sector), ["Information Technology", "Utilities"])
    close(figures.sectors[1]!.score!, 3.5, "utilities' score")
    close(figures.sectors[1]!.waciContribution, 17.5, "utilities' WACI")
    close(figures.sectors[0]!.waciContribution, 5, "IT's WACI")
    // contributions: B 9 / 0.8 = 11.25, D 6.25, A 5
    assert.deepStrictEqual(figures.topContributors.map((t) => t.ticker), ["BBB1", "DDD1", "AAA1"])
    close(figures.topContributors[0]!.share, 11.25 / 22.5, "B's share")
    assert.deepStrictEqual(figures.lowestRated.map((l) => l.ticker), ["DDD1", "BBB1", "AAA1"])
  })

  it("a score under the coverage minimum is withheld, saying why", () => {
    const withheld = portfolioFigures(byValue, outcomes, { minCoverage: 0.85 })
    assert.deepStrictEqual(withheld.score, { withheld: "the scored holdings hold 80.0 % of the weight, under the 85.0 % minimum" })
  })

  it("the interval is read off the weighted sums of the holdings' draws, draw by draw", () => {
    // draws: A always 8; B 0..99 in order; D 99..0: their weighted sums spread only through B and D
    const draws = (scored: Scored) =>
      Float64Array.from({ length: 100 }, (_, k) => (scored.ticker === "AAA1" ? 8 : scored.ticker === "BBB1" ? k / 10 : (99 - k) / 10))
    const figures = portfolioFigures(byValue, outcomes, { draws })
    if ("withheld" in figures.score) return assert.fail("withheld")
    // sum_k = (0.4 × 8 + 0.3 × k/10 + 0.1 × (99 - k)/10) / 0.8 = 5.2375 + 0.025 k; 5th and 95th of k = 0..99: k = 4 and 94
    close(figures.score.interval!.low, 5.2375 + 0.025 * 4, "low")
    close(figures.score.interval!.high, 5.2375 + 0.025 * 94, "high")
  })

  it("weights given: the same figures; a company named twice adds its weights; without weights every holding weighs the same", () => {
    const weighed: Holdings = { basis: "percent", positions: [position("AAA1", 30), position("BBB1", 30), position("CCC1", 20), position("DDD1", 10), position("AAA1", 10)] }
    const again = portfolioFigures(weighed, outcomes)
    close(again.waci!.value, 22.5, "waci")
    assert.isNull(again.financedEmissions)
    close(again.weightSum, 100, "weights as read")
    const equal = portfolioFigures({ basis: "equal", positions: byValue.positions.map((p) => ({ ...p, amount: 1 })) }, outcomes)
    // (10 + 30 + 50) / 3
    close(equal.waci!.value, 30, "equal weights")
    assert.strictEqual(equal.basis, "equal")
  })
})

describe("data quality", () => {
  it("a holding's PCAF grade from its emissions' basis, weighted over the scored holdings", () => {
    const withBasis = (scored: Scored, basis?: "verified" | "reported" | "estimated") =>
      new Scored({ ...scored, emissions: new EmissionData({ ...scored.emissions, ...(basis === undefined ? {} : { basis }) }) })
    // A verified (1), B reported (2), D not stated (taken as estimated, 4): (0.4 × 1 + 0.3 × 2 + 0.1 × 4) / 0.8 = 1.75
    const figures = portfolioFigures(byValue, [withBasis(a, "verified"), withBasis(b, "reported"), c, withBasis(d)])
    close(figures.dataQuality!.value, 1.75, "weighted grade")
    assert.deepStrictEqual(Object.values(figures.dataQuality!.grades).map((g) => Math.round(g * 10) / 10), [0.4, 0.3, 0, 0.1, 0])
    assert.deepStrictEqual([pcafGrade({ basis: "verified" }), pcafGrade({ basis: "reported" }), pcafGrade({ basis: "estimated" }), pcafGrade({})], [1, 2, 4, 4])
  })
})

describe("the portfolio's figures, whatever the holdings", () => {
  const scoredOnes = [a, b, d]
  const arbitrary = FastCheck.array(FastCheck.tuple(FastCheck.constantFrom("AAA1", "BBB1", "CCC1", "DDD1"), FastCheck.integer({ min: 1, max: 1000 })), {
    minLength: 1,
    maxLength: 12
  })

  it.prop("scaling every weight by the same factor changes nothing", [arbitrary, FastCheck.integer({ min: 2, max: 1000 })], ([rows, factor]) => {
    const holdings = (scale: number): Holdings => ({ basis: "percent", positions: rows.map(([t, w]) => position(t, w * scale)) })
    const one = portfolioFigures(holdings(1), outcomes)
    const scaled = portfolioFigures(holdings(factor), outcomes)
    assert.approximately(scaled.waci?.value ?? -1, one.waci?.value ?? -1, 1e-9)
    assert.approximately(scaled.coverage.weight, one.coverage.weight, 1e-12)
    assert.deepStrictEqual("withheld" in scaled.score, "withheld" in one.score)
  })

  it.prop("coverage is between 0 and 1 and equals the scored holdings' weight", [arbitrary], ([rows]) => {
    const holdings: Holdings = { basis: "percent", positions: rows.map(([t, w]) => position(t, w)) }
    const figures = portfolioFigures(holdings, outcomes)
    let total = 0
    let scored = 0
    for (const [t, w] of rows) {
      total += w
      if (t !== "CCC1") scored += w
    }
    assert.isAtLeast(figures.coverage.weight, 0)
    assert.isAtMost(figures.coverage.weight, 1)
    assert.approximately(figures.coverage.weight, scored / total, 1e-12)
  })

  it.prop("a one-holding portfolio's WACI is that company's intensity", [FastCheck.constantFrom(...scoredOnes), FastCheck.integer({ min: 1, max: 1e9 })], ([one, amount]) => {
    const figures = portfolioFigures({ basis: "value", positions: [position(one.ticker, amount)] }, outcomes)
    assert.approximately(figures.waci!.value, one.emissions.scope1Tco2e / one.fundamentals.revenueUsdM, 1e-9)
  })
})
