import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { type CompanyRecord, type Sector, sectors } from "../src/Domain.js"
import { toEmissionData } from "../src/Emissions.js"
import { toFundamentals } from "../src/Fundamentals.js"
import { toGovernanceRating } from "../src/Governance.js"
import {
  BAND_WIDTH,
  buildPeerStats,
  environmentalPillar,
  GOVERNANCE_FLOOR,
  industryAdjusted,
  percentile,
  pillarWeights,
  rankOf,
  ratingOf,
  scoreCompany,
  type SectorPeers
} from "../src/ScoreModel.js"
import { universe } from "./fixtures/Scenario.js"

const partsOf = (record: CompanyRecord) => ({
  fundamentals: toFundamentals(record),
  emissions: toEmissionData(record),
  governance: toGovernanceRating(record)
})
const peers = buildPeerStats(universe)

/** A sector whose peers' log intensities are ln(1), ln(10), ln(100), ln(1000) and whose averages span 4–8. */
const handPeers: SectorPeers = {
  sector: "Industrials",
  count: 4,
  logIntensities: Float64Array.from([1, 10, 100, 1000], Math.log),
  p5: 4,
  p95: 8
}

describe("ScoreModel", () => {
  it("maps scores to seven equal bands of 10/7", () => {
    assert.closeTo(BAND_WIDTH, 1.428571, 1e-6)
    const cases: ReadonlyArray<readonly [number, string]> = [
      [0, "CCC"],
      [1.428, "CCC"],
      [1.429, "B"],
      [2.856, "B"],
      [2.858, "BB"],
      [4.285, "BB"],
      [4.286, "BBB"],
      [5.714, "BBB"],
      [5.715, "A"],
      [7.142, "A"],
      [7.143, "AA"],
      [8.571, "AA"],
      [8.572, "AAA"],
      [10, "AAA"]
    ]
    for (const [value, rating] of cases) {
      assert.strictEqual(ratingOf(value), rating, `${value}`)
    }
  })

  it("keeps governance at or above 33 % in every sector, weights summing to 1", () => {
    for (const sector of sectors) {
      const weights = pillarWeights(sector)
      assert.isAtLeast(weights.governance, GOVERNANCE_FLOOR)
      assert.closeTo(weights.environmental + weights.governance, 1, 1e-12)
    }
    // the heaviest emitters sit exactly on the floor
    const energy = pillarWeights("Energy" satisfies Sector)
    assert.strictEqual(energy.governance, 0.33)
    assert.strictEqual(energy.environmental, 0.67)
  })

  it("ranks carbon intensity within the sector: cleanest 10, dirtiest 0, log-interpolated between", () => {
    assert.strictEqual(environmentalPillar(handPeers, 1), 10)
    assert.strictEqual(environmentalPillar(handPeers, 1000), 0)
    assert.strictEqual(environmentalPillar(handPeers, 0.5), 10)
    assert.strictEqual(environmentalPillar(handPeers, 5000), 0)
    // 10 t/$M is the second of four peers: rank 1/3
    assert.closeTo(environmentalPillar(handPeers, 10), 10 * (1 - 1 / 3), 1e-12)
    // sqrt(10 * 100) sits halfway between the 2nd and 3rd on a log scale: rank 1.5/3
    assert.closeTo(environmentalPillar(handPeers, Math.sqrt(1000)), 5, 1e-12)
    // a tie takes the middle of its run
    assert.closeTo(rankOf([1, 2, 2, 2, 3], 2), 0.5, 1e-12)
  })

  it("normalises the weighted average against the sector: p5 -> 0, p95 -> 10, clamped", () => {
    assert.strictEqual(industryAdjusted(handPeers, 4), 0)
    assert.strictEqual(industryAdjusted(handPeers, 8), 10)
    assert.strictEqual(industryAdjusted(handPeers, 6), 5)
    assert.strictEqual(industryAdjusted(handPeers, 3), 0)
    assert.strictEqual(industryAdjusted(handPeers, 9.5), 10)
    // a sector without spread leaves the average as it is
    assert.strictEqual(industryAdjusted({ ...handPeers, p5: 5, p95: 5 }, 6.5), 6.5)
  })

  it("computes percentiles by linear interpolation", () => {
    assert.strictEqual(percentile([0, 10], 0.05), 0.5)
    assert.strictEqual(percentile([1, 2, 3, 4, 5], 0.5), 3)
    assert.strictEqual(percentile([1, 2, 3, 4, 5], 0.95), 4.8)
  })

  it("scores a company by hand: Amazon", () => {
    const amazon = universe.find((r) => r.ticker === "AMZN")!
    const sector = peers.get(amazon.sector)!
    const intensity = (amazon.scope1Tco2e + amazon.scope2Tco2e) / amazon.revenueUsdM
    const environmental = 10 * (1 - rankOf(sector.logIntensities, Math.log(intensity)))
    const average = 0.4 * environmental + 0.6 * amazon.governanceScore
    const expected = Math.min(10, Math.max(0, 10 * (average - sector.p5) / (sector.p95 - sector.p5)))
    const score = scoreCompany(peers, partsOf(amazon), { samples: 0, seed: 1 })
    assert.closeTo(score.environmental, environmental, 0.0005)
    assert.closeTo(score.weightedAverage, average, 0.0005)
    assert.closeTo(score.value, expected, 0.0005)
    assert.strictEqual(score.rating, ratingOf(score.value))
    assert.deepStrictEqual([score.interval.low, score.interval.high, score.stability], [score.value, score.value, 1])
  })

  it("gives the five seed companies distinct scores", () => {
    const values = universe.slice(0, 5).map((r) => scoreCompany(peers, partsOf(r), { samples: 0, seed: 1 }).value)
    assert.strictEqual(new Set(values).size, 5)
  })

  it("Monte Carlo: same inputs and seed give identical output; the interval brackets the draws", () => {
    const tesla = partsOf(universe.find((r) => r.ticker === "TSLA")!)
    const a = scoreCompany(peers, tesla, { samples: 20_000, seed: 7 })
    const b = scoreCompany(peers, tesla, { samples: 20_000, seed: 7 })
    const c = scoreCompany(peers, tesla, { samples: 20_000, seed: 8 })
    assert.deepStrictEqual(a, b)
    assert.notDeepEqual(a.interval, c.interval)
    assert.strictEqual(a.samples, 20_000)
    assert.isTrue(a.interval.low < a.value && a.value < a.interval.high, JSON.stringify(a.interval))
    assert.isTrue(a.stability > 0 && a.stability < 1)
    // the point estimate does not depend on the draws
    assert.strictEqual(a.value, c.value)
  })

  it.prop("is deterministic and bounded for every company", { index: FastCheck.integer({ min: 0, max: 499 }) }, ({ index }) => {
    const parts = partsOf(universe[index]!)
    const a = scoreCompany(peers, parts, { samples: 200, seed: index })
    const b = scoreCompany(peers, parts, { samples: 200, seed: index })
    assert.deepStrictEqual(a, b)
    assert.isTrue(a.value >= 0 && a.value <= 10)
    assert.isTrue(a.interval.low >= 0 && a.interval.high <= 10 && a.interval.low <= a.interval.high)
    assert.strictEqual(a.rating, ratingOf(a.value))
  })
})
