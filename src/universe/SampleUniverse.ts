/**
 * The sample company universe: SYNTHETIC data for demos, tests and benchmarks.
 *
 * The first five records are real companies (Apple, Microsoft, Meta, Amazon,
 * Tesla) with approximate, rounded FY2024-scale figures; they are
 * illustrative, not authoritative. Every other record is invented: names,
 * tickers, financials, emissions and governance ratings are drawn from a
 * seeded PRNG, shaped so that sector-relative rankings behave like real ones
 * (carbon intensity is log-normal within a sector and ordered across sectors
 * roughly as in published data). Same seed and size give the same universe.
 *
 * @since 0.1.0
 */
import { CompanyRecord, GovernanceDeduction, type Sector, sectors, Ticker } from "../Domain.js"
import { hashString, mulberry32, normal } from "../internal/Prng.js"

/**
 * The committed seed of the sample universe.
 *
 * @since 0.1.0
 */
export const UNIVERSE_SEED = 20261129

/**
 * How many companies `generateUniverse` returns unless told otherwise.
 *
 * @since 0.1.0
 */
export const DEFAULT_UNIVERSE_SIZE = 500

// Each sector has 2 880 distinct name stems (prefix x suffix x noun); at this
// size the largest sector fills about half of them, so the rejection sampling
// for unique names stays fast.
const MAX_UNIVERSE_SIZE = 10_000

/**
 * The real companies that always open the universe, in this order.
 *
 * @since 0.1.0
 */
export const seedTickers = [
  Ticker.make("AAPL"),
  Ticker.make("MSFT"),
  Ticker.make("META"),
  Ticker.make("AMZN"),
  Ticker.make("TSLA")
] as const

/**
 * The governance key issues a rating can deduct points for.
 *
 * @since 0.1.0
 */
export const governanceKeyIssues = [
  "board independence",
  "ownership & control",
  "pay",
  "accounting",
  "business ethics",
  "tax transparency"
] as const

// ---------------------------------------------------------------------------
// Sampling helpers over an injected uniform source
// ---------------------------------------------------------------------------

const round1 = (x: number): number => Math.round(x * 10) / 10

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x))

const pick = <A>(random: () => number, items: ReadonlyArray<A>): A =>
  items[Math.floor(random() * items.length)]!

const weightedIndex = (random: () => number, weights: ReadonlyArray<number>): number => {
  let u = random() * weights.reduce((sum, w) => sum + w, 0)
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!
    if (u < 0) return i
  }
  return weights.length - 1
}

const shuffle = <A>(items: Array<A>, random: () => number): void => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
}

/**
 * A standard normal draw, redrawn until it lies in [lo, hi]: keeps the shape
 * of a log-normal but drops tails no real company would sit in.
 */
const boundedNormal = (random: () => number, lo: number, hi: number): number => {
  for (;;) {
    const z = normal(random)
    if (z >= lo && z <= hi) return z
  }
}

const GOVERNANCE_MAX_TENTHS = 100

// Summing integer tenths avoids 10 - (0.1 + 0.2) style float residue.
const scoreFromTenths = (tenths: ReadonlyArray<number>): number => {
  const lost = tenths.reduce((sum, t) => sum + t, 0)
  return clamp(GOVERNANCE_MAX_TENTHS - lost, 0, GOVERNANCE_MAX_TENTHS) / 10
}

// ---------------------------------------------------------------------------
// The five real companies
// ---------------------------------------------------------------------------

// Scope 2 is market-based, as the companies headline it. Deductions are
// illustrative; they differ so that all five land on distinct scores.
const seedFigures: ReadonlyArray<{
  readonly name: string
  readonly sector: Sector
  readonly marketCapUsd: number
  readonly revenueUsdM: number
  readonly scope1Tco2e: number
  readonly scope2Tco2e: number
  readonly deductions: ReadonlyArray<{ readonly keyIssue: string; readonly points: number }>
}> = [
  {
    name: "Apple Inc.",
    sector: "Information Technology",
    marketCapUsd: 3_400_000_000_000,
    revenueUsdM: 391_035,
    scope1Tco2e: 55_200,
    scope2Tco2e: 3_400,
    deductions: [{ keyIssue: "business ethics", points: 1 }, { keyIssue: "pay", points: 0.8 }]
  },
  {
    name: "Microsoft Corporation",
    sector: "Information Technology",
    marketCapUsd: 3_100_000_000_000,
    revenueUsdM: 245_122,
    scope1Tco2e: 144_960,
    scope2Tco2e: 393_134,
    deductions: [{ keyIssue: "business ethics", points: 0.9 }, { keyIssue: "pay", points: 0.4 }]
  },
  {
    name: "Meta Platforms, Inc.",
    sector: "Communication Services",
    marketCapUsd: 1_500_000_000_000,
    revenueUsdM: 164_501,
    scope1Tco2e: 67_000,
    scope2Tco2e: 1_000,
    deductions: [
      { keyIssue: "ownership & control", points: 3.5 },
      { keyIssue: "board independence", points: 1 },
      { keyIssue: "business ethics", points: 0.8 }
    ]
  },
  {
    name: "Amazon.com, Inc.",
    sector: "Consumer Discretionary",
    marketCapUsd: 2_300_000_000_000,
    revenueUsdM: 637_959,
    scope1Tco2e: 14_000_000,
    scope2Tco2e: 2_800_000,
    deductions: [{ keyIssue: "business ethics", points: 1.2 }, { keyIssue: "pay", points: 1 }]
  },
  {
    name: "Tesla, Inc.",
    sector: "Consumer Discretionary",
    marketCapUsd: 1_300_000_000_000,
    revenueUsdM: 97_690,
    scope1Tco2e: 230_000,
    scope2Tco2e: 1_000_000,
    deductions: [
      { keyIssue: "pay", points: 2.5 },
      { keyIssue: "board independence", points: 1.5 },
      { keyIssue: "ownership & control", points: 0.8 }
    ]
  }
]

const seedCompanies: ReadonlyArray<CompanyRecord> = seedFigures.map(
  ({ deductions, ...figures }, i) =>
    new CompanyRecord({
      ...figures,
      ticker: seedTickers[i]!,
      uncertaintyPct: 5,
      reportingYear: 2024,
      governanceScore: scoreFromTenths(deductions.map((d) => Math.round(d.points * 10))),
      governanceDeductions: deductions.map(({ keyIssue, points }) => new GovernanceDeduction({ keyIssue, points }))
    })
)

// ---------------------------------------------------------------------------
// Synthetic companies
// ---------------------------------------------------------------------------

interface SectorProfile {
  /** Share of the synthetic companies, in percent. */
  readonly weight: number
  /** Roughly the 5th and 95th percentile of (scope 1 + 2) tCO2e per USD M revenue. */
  readonly intensity: readonly [number, number]
  /** Typical share of scope 1 in scope 1 + 2. */
  readonly scope1Share: number
  /** Typical market cap / revenue. */
  readonly priceToSales: number
  readonly nouns: ReadonlyArray<string>
}

// Weights are loosely index-like but floored so every sector gets enough
// peers for sector-relative scoring (>= 20 each in the default 500).
const profiles: Readonly<Record<Sector, SectorProfile>> = {
  "Energy": {
    weight: 6,
    intensity: [200, 1500],
    scope1Share: 0.85,
    priceToSales: 1.2,
    nouns: ["Energy", "Petroleum", "Oil & Gas", "Resources", "Offshore", "Drilling"]
  },
  "Materials": {
    weight: 7,
    intensity: [200, 1500],
    scope1Share: 0.7,
    priceToSales: 1.5,
    nouns: ["Materials", "Chemicals", "Mining", "Steel", "Packaging", "Minerals"]
  },
  "Industrials": {
    weight: 14,
    intensity: [20, 200],
    scope1Share: 0.6,
    priceToSales: 2,
    nouns: ["Industries", "Aerospace", "Machinery", "Logistics", "Engineering", "Rail"]
  },
  "Consumer Discretionary": {
    weight: 10,
    intensity: [10, 100],
    scope1Share: 0.4,
    priceToSales: 1.5,
    nouns: ["Retail", "Motors", "Apparel", "Leisure", "Homebuilders", "Brands"]
  },
  "Consumer Staples": {
    weight: 7,
    intensity: [20, 150],
    scope1Share: 0.5,
    priceToSales: 1.5,
    nouns: ["Foods", "Beverages", "Household Products", "Grocers", "Farms", "Brewing"]
  },
  "Health Care": {
    weight: 11,
    intensity: [5, 40],
    scope1Share: 0.45,
    priceToSales: 3.5,
    nouns: ["Health", "Pharmaceuticals", "Biosciences", "Medical", "Therapeutics", "Diagnostics"]
  },
  "Financials": {
    weight: 13,
    intensity: [0.5, 10],
    scope1Share: 0.25,
    priceToSales: 3,
    nouns: ["Financial", "Bancorp", "Capital", "Insurance", "Trust", "Asset Management"]
  },
  "Information Technology": {
    weight: 13,
    intensity: [2, 30],
    scope1Share: 0.2,
    priceToSales: 6,
    nouns: ["Technologies", "Software", "Systems", "Semiconductor", "Networks", "Data"]
  },
  "Communication Services": {
    weight: 6,
    intensity: [2, 30],
    scope1Share: 0.15,
    priceToSales: 3.5,
    nouns: ["Media", "Communications", "Telecom", "Entertainment", "Interactive", "Broadcasting"]
  },
  "Utilities": {
    weight: 6,
    intensity: [500, 5000],
    scope1Share: 0.9,
    priceToSales: 2.2,
    nouns: ["Power", "Utilities", "Electric", "Water", "Gas & Electric", "Renewables"]
  },
  "Real Estate": {
    weight: 7,
    intensity: [20, 150],
    scope1Share: 0.3,
    priceToSales: 6,
    nouns: ["Realty", "Properties", "REIT", "Land", "Estates", "Property Trust"]
  }
}

const namePrefixes = [
  "North", "Blue", "Silver", "Iron", "Red", "Oak", "Stone", "Clear",
  "High", "Green", "Bright", "Cedar", "Falcon", "Harbor", "Summit", "Granite",
  "Pine", "West", "East", "Golden", "Crystal", "Maple", "Eagle", "River"
] as const
const nameSuffixes = [
  "wind", "peak", "ridge", "field", "water", "gate", "brook", "haven", "crest", "vale",
  "point", "rock", "bridge", "wood", "light", "star", "ford", "lake", "mont", "shore"
] as const
const legalForms = ["Corp", "Inc.", "plc", "Group", "Holdings", "Ltd", "Co.", "S.A.", "AG", "N.V.", "SE"] as const

// Synthetic market caps: log-normal around a mid-cap median, truncated to the
// 1e9 .. 5e11 band so no synthetic company rivals the seed five in size.
const MIN_CAP = 1e9
const MAX_CAP = 5e11
const CAP_LOG_MEDIAN = Math.log(1.5e10)
const CAP_LOG_SIGMA = 1.1

// z-score of the 95th percentile: turns a [p5, p95] range into a log-sigma.
const Z95 = 1.6449
// Beyond 2.5 sigma a sector's intensity would overlap the next sector's bulk.
const MAX_Z = 2.5

// Severity is per issue because rating agencies weigh control and ethics
// findings more heavily than disclosure gaps.
const issueSeverity: Readonly<Record<(typeof governanceKeyIssues)[number], number>> = {
  "board independence": 1,
  "ownership & control": 1.5,
  "pay": 0.8,
  "accounting": 1.2,
  "business ethics": 1.4,
  "tax transparency": 0.6
}
// P(0..4 deductions): most companies carry one or two findings.
const deductionCountWeights = [0.15, 0.35, 0.3, 0.15, 0.05] as const

/**
 * Generates the sample universe: the five seed companies first, then
 * `size - 5` synthetic ones over all 11 GICS sectors.
 *
 * @since 0.1.0
 */
export const generateUniverse = (
  options?: { readonly seed?: number; readonly size?: number }
): ReadonlyArray<CompanyRecord> => {
  const seed = options?.seed ?? UNIVERSE_SEED
  const size = options?.size ?? DEFAULT_UNIVERSE_SIZE
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_UNIVERSE_SIZE) {
    throw new RangeError(`universe size must be an integer in 0..${MAX_UNIVERSE_SIZE}, got ${size}`)
  }
  if (size <= seedCompanies.length) return seedCompanies.slice(0, size)

  // Hashing the seed with a label keeps this stream apart from other
  // consumers of the same seed (e.g. fault injection) that use mulberry32 raw.
  const random = mulberry32(hashString(`SampleUniverse:${seed}`))
  const usedTickers = new Set<string>(seedTickers)
  const usedStems = new Set<string>()
  const synthetic = sectorSlots(size - seedCompanies.length, random).map((sector) =>
    syntheticCompany(sector, random, usedTickers, usedStems)
  )
  return [...seedCompanies, ...synthetic]
}

// Exact per-sector counts (largest remainder) rather than independent draws,
// so the sector mix, and hence every sector's peer-group size, is stable.
const sectorSlots = (count: number, random: () => number): Array<Sector> => {
  const totalWeight = sectors.reduce((sum, s) => sum + profiles[s].weight, 0)
  const quotas = sectors.map((sector) => {
    const exact = (count * profiles[sector].weight) / totalWeight
    return { sector, n: Math.floor(exact), remainder: exact - Math.floor(exact) }
  })
  let missing = count - quotas.reduce((sum, q) => sum + q.n, 0)
  for (const q of [...quotas].sort((a, b) => b.remainder - a.remainder)) {
    if (missing === 0) break
    q.n += 1
    missing -= 1
  }
  const slots = quotas.flatMap((q) => Array.from({ length: q.n }, () => q.sector))
  shuffle(slots, random)
  return slots
}

const syntheticCompany = (
  sector: Sector,
  random: () => number,
  usedTickers: Set<string>,
  usedStems: Set<string>
): CompanyRecord => {
  const profile = profiles[sector]
  const { name, ticker } = syntheticIdentity(profile.nouns, random, usedTickers, usedStems)

  const logCap = CAP_LOG_MEDIAN + CAP_LOG_SIGMA * boundedNormal(
    random,
    (Math.log(MIN_CAP) - CAP_LOG_MEDIAN) / CAP_LOG_SIGMA,
    (Math.log(MAX_CAP) - CAP_LOG_MEDIAN) / CAP_LOG_SIGMA
  )
  const marketCapUsd = Math.round(Math.exp(logCap))
  const priceToSales = profile.priceToSales * Math.exp(0.35 * normal(random))
  const revenueUsdM = Math.max(0.1, round1(marketCapUsd / priceToSales / 1e6))

  // Log-normal with the profile's range as its 5th..95th percentiles.
  const [p5, p95] = profile.intensity
  const logSigma = (Math.log(p95) - Math.log(p5)) / (2 * Z95)
  const intensity = Math.sqrt(p5 * p95) * Math.exp(logSigma * boundedNormal(random, -MAX_Z, MAX_Z))
  const total = intensity * revenueUsdM
  const share = clamp(profile.scope1Share + 0.1 * normal(random), 0.02, 0.98)
  const scope1Tco2e = Math.round(total * share)
  const scope2Tco2e = Math.round(total * (1 - share))

  // Larger companies face disclosure mandates, so they report more often;
  // the slope is tuned for ~70 % reported across the universe.
  const capPosition = (logCap - Math.log(MIN_CAP)) / (Math.log(MAX_CAP) - Math.log(MIN_CAP))
  const reported = random() < 0.5 + 0.45 * capPosition
  const uncertaintyPct = reported ? 5 : round1(15 + 25 * random())
  const reportingYear = random() < 0.12 ? 2023 : 2024

  const deductions = governanceDeductions(random)
  return new CompanyRecord({
    ticker: Ticker.make(ticker),
    name,
    sector,
    marketCapUsd,
    revenueUsdM,
    scope1Tco2e,
    scope2Tco2e,
    uncertaintyPct,
    reportingYear,
    governanceScore: scoreFromTenths(deductions.map((d) => d.tenths)),
    governanceDeductions: deductions.map(({ keyIssue, points }) => new GovernanceDeduction({ keyIssue, points }))
  })
}

const syntheticIdentity = (
  nouns: ReadonlyArray<string>,
  random: () => number,
  usedTickers: Set<string>,
  usedStems: Set<string>
): { readonly name: string; readonly ticker: string } => {
  // Unique stems, not just unique names, so the universe never holds both
  // "Northwind Energy Corp" and "Northwind Energy plc".
  let prefix: string, suffix: string, noun: string, stem: string
  do {
    prefix = pick(random, namePrefixes)
    suffix = pick(random, nameSuffixes)
    noun = pick(random, nouns)
    stem = `${prefix}${suffix} ${noun}`
  } while (usedStems.has(stem))
  usedStems.add(stem)
  const name = `${stem} ${pick(random, legalForms)}`

  const p = prefix.toUpperCase()
  const s = suffix.toUpperCase()
  const n = noun.replace(/[^A-Za-z]/g, "").toUpperCase()
  const candidates = [
    p.slice(0, 2) + s[0] + n[0],
    p.slice(0, 3) + n[0],
    p[0] + s[0] + n[0],
    p.slice(0, 2) + s.slice(0, 2) + n[0],
    p[0] + s.slice(0, 2) + n.slice(0, 2)
  ]
  // Rotating the preferred pattern mixes 3-, 4- and 5-letter tickers.
  const start = Math.floor(random() * candidates.length)
  const rotated = [...candidates.slice(start), ...candidates.slice(0, start)]
  let ticker = rotated.find((t) => !usedTickers.has(t))
  while (ticker === undefined) {
    // Exchange-style fallback: keep the company's initial, random tail.
    const length = 3 + Math.floor(random() * 3)
    let t = p[0]!
    while (t.length < length) t += String.fromCharCode(65 + Math.floor(random() * 26))
    if (!usedTickers.has(t)) ticker = t
  }
  usedTickers.add(ticker)
  return { name, ticker }
}

const governanceDeductions = (
  random: () => number
): ReadonlyArray<{ readonly keyIssue: string; readonly points: number; readonly tenths: number }> => {
  const count = weightedIndex(random, deductionCountWeights)
  const issues = [...governanceKeyIssues]
  shuffle(issues, random)
  return issues
    .slice(0, count)
    .map((keyIssue) => {
      // Whole tenths, so the score is exact and the serialised string short.
      const tenths = clamp(Math.round(10 * issueSeverity[keyIssue] * Math.exp(0.6 * normal(random))), 1, 40)
      return { keyIssue, points: tenths / 10, tenths }
    })
    // Code-unit order, not localeCompare: locale-independent, and ICU start-up
    // would dominate a cold generation.
    .sort((a, b) => b.tenths - a.tenths || (a.keyIssue < b.keyIssue ? -1 : 1))
}

let sample: ReadonlyArray<CompanyRecord> | undefined

/**
 * The universe for the committed seed and default size, generated on the
 * first call (tens of milliseconds) and kept: only what asks for the sample
 * pays for it.
 *
 * @since 0.1.0
 */
export const sampleUniverse = (): ReadonlyArray<CompanyRecord> => (sample ??= generateUniverse())
