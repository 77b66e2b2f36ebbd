/**
 * The score model, as pure functions: pillar scores on 0–10, sector pillar
 * weights with a governance floor, the weighted score and its letter rating.
 *
 * The shape follows the public description of MSCI's ESG Ratings (pillars on
 * 0–10, sector-specific weights, seven letter bands); the constants are this
 * project's own.
 *
 * @since 0.1.0
 */
import type { EmissionData, Fundamentals, GovernanceRating, Rating, Sector } from "./Domain.js"
import { PillarWeights, ratings, Score } from "./Domain.js"

/** Governance weighs at least this much in every sector. */
export const GOVERNANCE_FLOOR = 0.33

/** Width of one letter band: seven equal bands over 0–10. */
export const BAND_WIDTH = 10 / 7

/**
 * Environmental weight per sector before the governance floor is applied:
 * heavy emitters are judged mostly on carbon, asset-light sectors mostly on
 * governance.
 */
const environmentalWeightBySector: Record<Sector, number> = {
  "Energy": 0.7,
  "Utilities": 0.7,
  "Materials": 0.62,
  "Industrials": 0.5,
  "Real Estate": 0.5,
  "Consumer Staples": 0.45,
  "Consumer Discretionary": 0.4,
  "Information Technology": 0.35,
  "Health Care": 0.3,
  "Communication Services": 0.3,
  "Financials": 0.25
}

export const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value))

/** Rounds for presentation and for stable comparisons (scores carry 3 decimals). */
export const round3 = (value: number): number => Math.round(value * 1000) / 1000

/** Sector pillar weights; governance never below {@link GOVERNANCE_FLOOR}, weights sum to 1. */
export const pillarWeights = (sector: Sector): PillarWeights => {
  const governance = Math.max(GOVERNANCE_FLOOR, 1 - environmentalWeightBySector[sector])
  return new PillarWeights({ environmental: 1 - governance, governance })
}

/** Scope 1 + 2 emissions per USD million of revenue. */
export const carbonIntensity = (fundamentals: Fundamentals, emissions: EmissionData): number =>
  (emissions.scope1Tco2e + emissions.scope2Tco2e) / fundamentals.revenueUsdM

/**
 * Environmental pillar from carbon intensity on a log scale: 0 t/$M scores 10,
 * each tenfold increase costs 2.5 points, 10,000 t/$M and above scores 0.
 */
export const environmentalFromIntensity = (intensity: number): number =>
  clamp(10 * (1 - Math.log10(1 + Math.max(0, intensity)) / 4), 0, 10)

/** Governance pillar: the partner's deduction-style score, already on 0–10. */
export const governancePillar = (governance: GovernanceRating): number => clamp(governance.score, 0, 10)

/** The letter rating of a 0–10 score: seven equal bands of 10/7, CCC lowest, AAA highest. */
export const ratingOf = (value: number): Rating => {
  const index = Math.floor(clamp(value, 0, 10) / BAND_WIDTH)
  return ratings[Math.min(ratings.length - 1, index)]!
}

/** Weighted average of two pillars. */
export const combine = (weights: PillarWeights, environmental: number, governance: number): number =>
  clamp(weights.environmental * environmental + weights.governance * governance, 0, 10)

/** Scores one company from its three sources. */
export const scoreCompany = (input: {
  readonly fundamentals: Fundamentals
  readonly emissions: EmissionData
  readonly governance: GovernanceRating
}): Score => {
  const weights = pillarWeights(input.fundamentals.sector)
  const environmental = environmentalFromIntensity(carbonIntensity(input.fundamentals, input.emissions))
  const governance = governancePillar(input.governance)
  const value = round3(combine(weights, environmental, governance))
  return new Score({
    value,
    rating: ratingOf(value),
    environmental: round3(environmental),
    governance: round3(governance),
    weights
  })
}
