/**
 * The score model, as pure functions, in the public shape of MSCI's ESG
 * Ratings with this project's own constants: sector-relative pillars,
 * sector weights, an industry adjustment, seven letter bands. A seeded
 * Monte Carlo gives each score's 90 % interval, in chunks so that a caller
 * can yield between them.
 *
 * The design: docs/design.md#srcscoremodelts
 *
 * @since 0.1.0
 */
import type { CompanyRecord, EmissionData, FundamentalsData, GovernanceRating, Rating, Sector } from "./Domain.js"
import { PillarWeights, ratings, Score, ScoreInterval } from "./Domain.js"
import { hashString, mulberry32, normal } from "./internal/Prng.js"

/**
 * Governance weighs at least this much in every sector.
 *
 * @since 0.1.0
 */
export const GOVERNANCE_FLOOR = 0.33

/**
 * Width of one letter band: seven equal bands over 0–10.
 *
 * @since 0.1.0
 */
export const BAND_WIDTH = 10 / 7

/**
 * Default Monte Carlo samples per company: about 100 ms of CPU on this
 * project's reference machine (see `npm run bench`).
 *
 * @since 0.1.0
 */
export const DEFAULT_SAMPLES = 500_000

/**
 * The Monte Carlo's default seed: the same inputs and seed give identical scores.
 *
 * @since 0.1.0
 */
export const DEFAULT_SEED = 20261129

/**
 * Standard deviation assumed for the partner's governance score, in points.
 *
 * @since 0.1.0
 */
export const GOVERNANCE_SD = 0.5

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

/**
 * `value` limited to the range `min` to `max`, both included.
 *
 * @since 0.1.0
 */
export const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value))

/**
 * Rounds for presentation and for stable comparisons (scores carry 3 decimals).
 *
 * @since 0.1.0
 */
export const round3 = (value: number): number => Math.round(value * 1000) / 1000

/**
 * Sector pillar weights; governance never below {@link GOVERNANCE_FLOOR}, weights sum to 1.
 *
 * @since 0.1.0
 */
export const pillarWeights = (sector: Sector): PillarWeights => {
  const known = weightsBySector.get(sector)
  if (known !== undefined) return known
  const governance = Math.max(GOVERNANCE_FLOOR, 1 - environmentalWeightBySector[sector])
  const weights = new PillarWeights({ environmental: round3(1 - governance), governance })
  weightsBySector.set(sector, weights)
  return weights
}

// one value per sector, shared by every score of it: a universe's scores hold no copy each
const weightsBySector = new Map<Sector, PillarWeights>()

/**
 * Scope 1 + 2 emissions per USD million of revenue.
 *
 * @since 0.1.0
 */
export const carbonIntensity = (
  revenueUsdM: number,
  emissions: { readonly scope1Tco2e: number; readonly scope2Tco2e: number }
): number => (emissions.scope1Tco2e + emissions.scope2Tco2e) / revenueUsdM

/**
 * The letter rating of a 0–10 score: seven equal bands of 10/7, CCC lowest, AAA highest.
 *
 * @since 0.1.0
 */
export const ratingOf = (value: number): Rating => {
  const index = Math.floor(clamp(value, 0, 10) / BAND_WIDTH)
  return ratings[Math.min(ratings.length - 1, index)]!
}

/**
 * Linear-interpolated percentile `p` (0–1) of an ascending array.
 *
 * @since 0.1.0
 */
export const percentile = (sorted: ArrayLike<number>, p: number): number => {
  if (sorted.length === 0) return NaN
  const position = clamp(p, 0, 1) * (sorted.length - 1)
  const lower = Math.floor(position)
  const upper = Math.min(sorted.length - 1, lower + 1)
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower)
}

/**
 * Where `x` falls in an ascending array, as a fraction 0–1, interpolating
 * between neighbours (ties take their middle position).
 *
 * @since 0.1.0
 */
export const rankOf = (sorted: ArrayLike<number>, x: number): number => {
  const n = sorted.length
  if (n < 2) return 0.5
  if (x <= sorted[0]!) return 0
  if (x >= sorted[n - 1]!) return 1
  const above = lowerBound(sorted, x)
  if (sorted[above] === x) return (above + upperBound(sorted, x) - 1) / 2 / (n - 1)
  const below = above - 1
  return (below + (x - sorted[below]!) / (sorted[above]! - sorted[below]!)) / (n - 1)
}

/** First index with sorted[i] >= x. */
const lowerBound = (sorted: ArrayLike<number>, x: number): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index with sorted[i] > x. */
const upperBound = (sorted: ArrayLike<number>, x: number): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

// intensities are compared on a log scale; the floor keeps a zero emitter finite
const logIntensity = (intensity: number): number => Math.log(Math.max(intensity, 1e-6))

/**
 * What a sector's peers look like: the yardsticks of the relative pillar and of the industry adjustment.
 *
 * @since 0.1.0
 */
export interface SectorPeers {
  readonly sector: Sector
  readonly count: number
  /** Ascending log carbon intensities of the peers. */
  readonly logIntensities: Float64Array
  /** 5th and 95th percentiles of the peers' weighted averages. */
  readonly p5: number
  readonly p95: number
}

/**
 * Every sector's peer statistics, keyed by sector; a sector with no companies in the universe has no entry.
 *
 * @since 0.1.0
 */
export type PeerStats = ReadonlyMap<Sector, SectorPeers>

/**
 * Environmental pillar: 10 for the sector's cleanest, 0 for its dirtiest.
 *
 * @since 0.1.0
 */
export const environmentalPillar = (peers: SectorPeers | undefined, intensity: number): number =>
  peers === undefined || peers.count < 2
    // with no peers to rank against, fall back to an absolute log scale: 0 t/$M -> 10, 10,000 t/$M -> 0
    ? clamp(10 * (1 - Math.log10(1 + Math.max(0, intensity)) / 4), 0, 10)
    : 10 * (1 - rankOf(peers.logIntensities, logIntensity(intensity)))

/**
 * Weighted average of two pillars.
 *
 * @since 0.1.0
 */
export const combine = (weights: PillarWeights, environmental: number, governance: number): number =>
  clamp(weights.environmental * environmental + weights.governance * governance, 0, 10)

/**
 * The weighted average normalised against the sector: 5th percentile -> 0, 95th -> 10, clamped.
 *
 * @since 0.1.0
 */
export const industryAdjusted = (peers: SectorPeers | undefined, weightedAverage: number): number =>
  peers === undefined || !(peers.p95 - peers.p5 > 1e-9)
    ? weightedAverage
    : clamp(10 * (weightedAverage - peers.p5) / (peers.p95 - peers.p5), 0, 10)

/**
 * One sector's peer statistics from its companies' carbon intensities and
 * governance scores (in any order, one of each per company).
 *
 * @since 0.1.0
 */
export const sectorPeers = (
  sector: Sector,
  intensities: ArrayLike<number>,
  governanceScores: ArrayLike<number>
): SectorPeers => {
  const logIntensities = Float64Array.from(intensities, logIntensity)
  const averagesOf = (partial: SectorPeers) => {
    const weights = pillarWeights(sector)
    return Float64Array.from(
      intensities,
      (intensity, i) => combine(weights, environmentalPillar(partial, intensity), governanceScores[i]!)
    ).sort()
  }
  const partial: SectorPeers = { sector, count: logIntensities.length, logIntensities: logIntensities.sort(), p5: 0, p95: 0 }
  const averages = averagesOf(partial)
  return { ...partial, p5: percentile(averages, 0.05), p95: percentile(averages, 0.95) }
}

/**
 * Builds every sector's peer statistics from the universe.
 *
 * @since 0.1.0
 */
export const buildPeerStats = (records: ReadonlyArray<CompanyRecord>): PeerStats => {
  const bySector = new Map<Sector, Array<CompanyRecord>>()
  for (const record of records) {
    const group = bySector.get(record.sector)
    if (group === undefined) bySector.set(record.sector, [record])
    else group.push(record)
  }
  const stats = new Map<Sector, SectorPeers>()
  for (const [sector, group] of bySector) {
    stats.set(
      sector,
      sectorPeers(sector, group.map((r) => carbonIntensity(r.revenueUsdM, r)), group.map((r) => r.governanceScore))
    )
  }
  return stats
}

/**
 * The most points a sector's intensities are kept as in a database: its quantiles beyond that many companies.
 *
 * @since 0.1.0
 */
export const PEER_POINTS = 1001

/**
 * A sector's sorted intensities as a database keeps them: all of them up to
 * `PEER_POINTS`, else that many evenly spaced quantiles (min and max
 * included), which rank a company within a thousandth of its true rank.
 *
 * @since 0.1.0
 */
export const keptIntensities = (sorted: Float64Array): Float64Array =>
  sorted.length <= PEER_POINTS
    ? sorted
    : Float64Array.from({ length: PEER_POINTS }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (PEER_POINTS - 1))]!)

/**
 * One company's data from the three sources: what the point score and the Monte Carlo are computed from.
 *
 * @since 0.1.0
 */
export interface ScoreParts {
  readonly fundamentals: FundamentalsData
  readonly emissions: EmissionData
  readonly governance: GovernanceRating
}

/**
 * The point estimate: pillars, weighted average and industry-adjusted score, unrounded.
 *
 * @since 0.1.0
 */
export const pointScore = (peerStats: PeerStats, input: ScoreParts) => {
  const peers = peerStats.get(input.fundamentals.sector)
  const weights = pillarWeights(input.fundamentals.sector)
  const environmental = environmentalPillar(peers, carbonIntensity(input.fundamentals.revenueUsdM, input.emissions))
  const governance = clamp(input.governance.score, 0, 10)
  const weightedAverage = combine(weights, environmental, governance)
  return { weights, environmental, governance, weightedAverage, value: industryAdjusted(peers, weightedAverage) }
}

const HISTOGRAM_BINS = 10_001

/** The `p` quantile (nearest rank) of `count` samples binned by thousandths. */
const histogramPercentile = (histogram: Uint32Array, count: number, p: number): number => {
  const rank = Math.max(1, Math.ceil(p * count))
  let seen = 0
  for (let bin = 0; bin < histogram.length; bin++) {
    seen += histogram[bin]!
    if (seen >= rank) return bin / 1000
  }
  return 10
}

/**
 * The Monte Carlo's settings for one company: how many samples to draw and the seed that makes them reproducible.
 *
 * @since 0.1.0
 */
export interface SimulationOptions {
  /** Monte Carlo samples; 0 skips the simulation (interval collapses to the point, stability 1). */
  readonly samples: number
  /** Combined with the ticker, so each company draws its own stream. */
  readonly seed: number
}

/**
 * A Monte Carlo run that can be advanced in chunks: `step(n)` draws up to `n`
 * more samples and returns whether any are left; `result()` gives the score.
 * Each sample draws the carbon intensity with the stated relative
 * uncertainty (as one standard deviation, floored at zero) and the governance
 * score with {@link GOVERNANCE_SD}.
 *
 * @since 0.1.0
 */
export const makeSimulation = (
  peerStats: PeerStats,
  input: ScoreParts,
  options: SimulationOptions,
  /** Given, each draw's score is kept in it, in order (as many as it holds). */
  keep?: Float64Array
) => {
  const point = pointScore(peerStats, input)
  const peers = peerStats.get(input.fundamentals.sector)
  const random = mulberry32(hashString(input.fundamentals.ticker) ^ options.seed)
  const intensity = carbonIntensity(input.fundamentals.revenueUsdM, input.emissions)
  const relativeSd = input.emissions.uncertaintyPct / 100
  // a histogram at the precision scores are reported with (0.001) keeps memory flat however many samples are drawn;
  // none for a point score (40 KB a company that a run over a whole universe would allocate for nothing)
  const histogram = new Uint32Array(options.samples > 0 ? HISTOGRAM_BINS : 0)
  const pointRating = ratingOf(round3(point.value))
  let drawn = 0
  let sameRating = 0

  const step = (count: number): boolean => {
    const end = Math.min(options.samples, drawn + count)
    for (; drawn < end; drawn++) {
      const sampledIntensity = intensity * Math.max(0, 1 + relativeSd * normal(random))
      const sampledGovernance = clamp(point.governance + GOVERNANCE_SD * normal(random), 0, 10)
      const environmental = environmentalPillar(peers, sampledIntensity)
      const value = industryAdjusted(peers, combine(point.weights, environmental, sampledGovernance))
      histogram[Math.round(value * 1000)]!++
      if (ratingOf(value) === pointRating) sameRating++
      if (keep !== undefined && drawn < keep.length) keep[drawn] = value
    }
    return drawn < options.samples
  }

  const result = (): Score => {
    const value = round3(point.value)
    return new Score({
      value,
      rating: pointRating,
      environmental: round3(point.environmental),
      governance: round3(point.governance),
      weights: point.weights,
      weightedAverage: round3(point.weightedAverage),
      interval: drawn === 0
        ? new ScoreInterval({ low: value, high: value }, true)
        : new ScoreInterval({ low: histogramPercentile(histogram, drawn, 0.05), high: histogramPercentile(histogram, drawn, 0.95) }, true),
      stability: drawn === 0 ? 1 : round3(sameRating / drawn),
      samples: drawn
    }, true)
  }

  return { step, result } as const
}

/**
 * A company's first `options.samples` Monte Carlo draws of its score: the same
 * draws, in the same order, as its own interval is read from. A portfolio's
 * interval sums its holdings' draws, draw by draw.
 *
 * @since 0.1.0
 */
export const drawScores = (peerStats: PeerStats, input: ScoreParts, options: SimulationOptions): Float64Array => {
  const draws = new Float64Array(options.samples)
  makeSimulation(peerStats, input, options, draws).step(options.samples)
  return draws
}

/**
 * Scores one company in one go (no yielding): for tests and small inputs.
 *
 * @since 0.1.0
 */
export const scoreCompany = (peerStats: PeerStats, input: ScoreParts, options: SimulationOptions): Score => {
  const simulation = makeSimulation(peerStats, input, options)
  simulation.step(options.samples)
  return simulation.result()
}
