import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { type Sector, sectors } from "../src/Domain.js"
import { toEmissionData } from "../src/Emissions.js"
import { toFundamentals } from "../src/Fundamentals.js"
import { toGovernanceRating } from "../src/Governance.js"
import {
  BAND_WIDTH,
  environmentalFromIntensity,
  GOVERNANCE_FLOOR,
  pillarWeights,
  ratingOf,
  scoreCompany
} from "../src/ScoreModel.js"
import { universe } from "./fixtures/Scenario.js"

const inputs = (index: number) => {
  const record = universe[index]!
  return {
    fundamentals: toFundamentals(record),
    emissions: toEmissionData(record),
    governance: toGovernanceRating(record)
  }
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
    assert.closeTo(energy.environmental, 0.67, 1e-12)
  })

  it("scores carbon intensity on a log scale: 0 -> 10, 99 t/$M -> 5, 9,999 t/$M -> 0", () => {
    assert.strictEqual(environmentalFromIntensity(0), 10)
    assert.closeTo(environmentalFromIntensity(99), 5, 1e-12)
    assert.closeTo(environmentalFromIntensity(9999), 0, 1e-12)
    assert.strictEqual(environmentalFromIntensity(1e7), 0)
  })

  it("combines the pillars by sector weight (hand-checked for Apple)", () => {
    const score = scoreCompany(inputs(0))
    // Apple: (55,200 + 3,400) t / 391,035 $M = 0.14986 t/$M
    const environmental = 10 * (1 - Math.log10(1 + 58_600 / 391_035) / 4)
    const expected = 0.35 * environmental + 0.65 * 9.2
    assert.closeTo(score.value, expected, 0.0005)
    assert.strictEqual(score.rating, ratingOf(score.value))
  })

  it("gives the five seed companies distinct scores", () => {
    const values = [0, 1, 2, 3, 4].map((i) => scoreCompany(inputs(i)).value)
    assert.strictEqual(new Set(values).size, 5)
  })

  it.prop("is deterministic and bounded for every company", { index: FastCheck.integer({ min: 0, max: 499 }) }, ({ index }) => {
    const a = scoreCompany(inputs(index))
    const b = scoreCompany(inputs(index))
    assert.deepStrictEqual(a, b)
    assert.isTrue(a.value >= 0 && a.value <= 10)
    assert.strictEqual(a.rating, ratingOf(a.value))
  })
})
