/**
 * The vocabulary shared by every module: tickers, the three data sources'
 * payloads, the score, a company's outcome and why it was skipped, and the
 * tagged errors.
 *
 * Data classes are named for what they hold (`FundamentalsData`,
 * `EmissionData`, `GovernanceRating`), never for the service that fetches
 * them (`Fundamentals`, `Emissions`, `Governance`).
 *
 * @since 0.1.0
 */
import { ParseResult, Schema } from "effect"

/**
 * An exchange ticker, upper-case (`AAPL`, `BRK.B`).
 *
 * @since 0.1.0
 */
export const Ticker = Schema.String.pipe(
  Schema.pattern(/^[A-Z][A-Z0-9.-]{0,9}$/),
  Schema.brand("Ticker")
)
/**
 * A decoded `Ticker`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type Ticker = typeof Ticker.Type

/**
 * The 11 GICS sectors.
 *
 * @since 0.1.0
 */
export const Sector = Schema.Literal(
  "Energy",
  "Materials",
  "Industrials",
  "Consumer Discretionary",
  "Consumer Staples",
  "Health Care",
  "Financials",
  "Information Technology",
  "Communication Services",
  "Utilities",
  "Real Estate"
)
/**
 * A decoded `Sector`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type Sector = typeof Sector.Type
/**
 * The 11 sectors as an array, in the order `Sector` lists them (Energy first, Real Estate last).
 *
 * @since 0.1.0
 */
export const sectors: ReadonlyArray<Sector> = Sector.literals

/**
 * The three data sources a company's score is built from.
 *
 * @since 0.1.0
 */
export const Source = Schema.Literal("fundamentals", "emissions", "governance")
/**
 * A decoded `Source`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type Source = typeof Source.Type
/**
 * The three sources as an array: `fundamentals`, `emissions`, `governance`.
 *
 * @since 0.1.0
 */
export const sources: ReadonlyArray<Source> = Source.literals
/**
 * A source behind the API gate: the external providers.
 *
 * @since 0.1.0
 */
export type ExternalSource = Exclude<Source, "fundamentals">
/**
 * The external sources as an array (`emissions`, `governance`): the two whose requests take API gate permits.
 *
 * @since 0.1.0
 */
export const externalSources: ReadonlyArray<ExternalSource> = ["emissions", "governance"]

const NonNegative = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const Positive = Schema.Number.pipe(Schema.finite(), Schema.positive())
const ZeroToTen = Schema.Number.pipe(Schema.finite(), Schema.between(0, 10))

/**
 * How a company's emissions figures were obtained: `verified` (reported, third-party verified), `reported`
 * (unverified) or `estimated` (modelled by the provider).
 *
 * @since 0.1.0
 */
export const EmissionsBasis = Schema.Literal("verified", "reported", "estimated")
/**
 * A decoded `EmissionsBasis`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type EmissionsBasis = typeof EmissionsBasis.Type

/**
 * Fundamentals from the internal database (the blocking source).
 *
 * @since 0.1.0
 */
export class FundamentalsData extends Schema.Class<FundamentalsData>("FundamentalsData")({
  ticker: Ticker,
  name: Schema.NonEmptyTrimmedString,
  sector: Sector,
  marketCapUsd: NonNegative,
  revenueUsdM: Positive
}) {}

/**
 * Carbon-emission data from the external emissions API.
 *
 * @since 0.1.0
 */
export class EmissionData extends Schema.Class<EmissionData>("EmissionData")({
  ticker: Ticker,
  /** Scope 1 (direct) emissions, tonnes CO2e per year. */
  scope1Tco2e: NonNegative,
  /** Scope 2 (purchased energy) emissions, tonnes CO2e per year. */
  scope2Tco2e: NonNegative,
  /** Stated relative uncertainty of the estimate, in percent (reported figures ~5, modelled ~30). */
  uncertaintyPct: Schema.Number.pipe(Schema.finite(), Schema.between(0, 100)),
  reportingYear: Schema.Int.pipe(Schema.between(1990, 2100)),
  /**
   * How the figures were obtained: reported by the company and verified by a third party, reported unverified, or
   * estimated by the provider. Optional: a provider that does not say is taken as estimated (`pcafGrade`).
   */
  basis: Schema.optional(EmissionsBasis)
}) {}

/**
 * A holding's data quality on the PCAF scale, 1 (reported and verified) to 5 (estimated from sector averages), from
 * its emissions' basis: verified 1, reported 2, estimated 4; a provider that does not say, 4.
 *
 * @since 0.1.0
 */
export const pcafGrade = (emissions: { readonly basis?: EmissionsBasis | undefined }): 1 | 2 | 3 | 4 | 5 =>
  emissions.basis === "verified" ? 1 : emissions.basis === "reported" ? 2 : 4

/**
 * A key-issue deduction in a governance rating.
 *
 * @since 0.1.0
 */
export class GovernanceDeduction extends Schema.Class<GovernanceDeduction>("GovernanceDeduction")({
  keyIssue: Schema.NonEmptyTrimmedString,
  points: Schema.Number.pipe(Schema.finite(), Schema.between(0, 10))
}) {}

/**
 * Deductions as text, the form the database and CSV files hold:
 * `keyIssue:points` joined by `;`, empty when none. Decoding validates every
 * part (a key issue, points from 0 to 10), so a malformed string is an error
 * where it is read, never later.
 *
 * @since 0.1.0
 */
export const DeductionsFromText = Schema.transformOrFail(
  Schema.String,
  Schema.Array(GovernanceDeduction),
  {
    strict: true,
    decode: (text, _, ast) => {
      if (text === "") return ParseResult.succeed([])
      const parts = text.split(";").map((part) => deductionPattern.exec(part))
      const bad = parts.findIndex((match) => match === null)
      return bad >= 0
        ? ParseResult.fail(new ParseResult.Type(ast, text, `expected issue:points parts joined by ";", found "${text.split(";")[bad]}"`))
        : ParseResult.succeed(parts.map((match) => ({ keyIssue: match![1]!.trim(), points: Number(match![2]) })))
    },
    encode: (deductions) => ParseResult.succeed(deductions.map((d) => `${d.keyIssue}:${d.points}`).join(";"))
  }
)

const deductionPattern = /^([^:;]*[^:;\s][^:;]*):(-?\d+(?:\.\d+)?)$/

/**
 * Governance rating from the partner API. Deduction-style: every company
 * starts at 10 and loses points for governance key issues; `score` is the
 * partner's result after deductions.
 *
 * @since 0.1.0
 */
export class GovernanceRating extends Schema.Class<GovernanceRating>("GovernanceRating")({
  ticker: Ticker,
  score: ZeroToTen,
  deductions: Schema.Array(GovernanceDeduction)
}) {}

/**
 * The seven letter ratings, worst to best.
 *
 * @since 0.1.0
 */
export const Rating = Schema.Literal("CCC", "B", "BB", "BBB", "A", "AA", "AAA")
/**
 * A decoded `Rating`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type Rating = typeof Rating.Type
/**
 * The seven letter ratings as an array, worst to best: index 0 is `CCC`, index 6 is `AAA`.
 *
 * @since 0.1.0
 */
export const ratings: ReadonlyArray<Rating> = Rating.literals

/**
 * The weights of the environmental and governance pillars in a score, each 0–1; `pillarWeights` sets them per sector, summing to 1.
 *
 * @since 0.1.0
 */
export class PillarWeights extends Schema.Class<PillarWeights>("PillarWeights")({
  environmental: Schema.Number.pipe(Schema.between(0, 1)),
  governance: Schema.Number.pipe(Schema.between(0, 1))
}) {}

/**
 * A 90 % interval of the score under input uncertainty.
 *
 * @since 0.1.0
 */
export class ScoreInterval extends Schema.Class<ScoreInterval>("ScoreInterval")({
  low: ZeroToTen,
  high: ZeroToTen
}) {}

/**
 * A company's ESG score.
 *
 * @since 0.1.0
 */
export class Score extends Schema.Class<Score>("Score")({
  /** Industry-adjusted score, 0–10: the weighted average normalised against the sector's peers. */
  value: ZeroToTen,
  rating: Rating,
  /** Environmental pillar, 0–10. */
  environmental: ZeroToTen,
  /** Governance pillar, 0–10. */
  governance: ZeroToTen,
  weights: PillarWeights,
  /** The weighted average of the pillars before the industry adjustment, 0–10. */
  weightedAverage: ZeroToTen,
  /** 5th to 95th percentile of the Monte Carlo samples. */
  interval: ScoreInterval,
  /** Share of Monte Carlo samples that keep the letter rating, 0–1. */
  stability: Schema.Number.pipe(Schema.between(0, 1)),
  /** Monte Carlo samples drawn. */
  samples: Schema.Int.pipe(Schema.nonNegative())
}) {}

/**
 * Everything the scorer needs for one company.
 *
 * @since 0.1.0
 */
export class ScoreInput extends Schema.Class<ScoreInput>("ScoreInput")({
  fundamentals: FundamentalsData,
  emissions: EmissionData,
  governance: GovernanceRating
}) {}

/**
 * A company that was scored; this is what the index cache holds.
 *
 * @since 0.1.0
 */
export class Scored extends Schema.TaggedClass<Scored>()("Scored", {
  input: Schema.String,
  fundamentals: FundamentalsData,
  emissions: EmissionData,
  governance: GovernanceRating,
  score: Score,
  /** When the score was computed (epoch milliseconds), for a score reused from a cache rather than computed by this run. */
  cachedAt: Schema.optional(Schema.Number),
  /** Scored in the run's second pass, after a transient failure in its first (`RunOptions.secondPass`). */
  secondPass: Schema.optional(Schema.Boolean),
  /** When its three sources' data was complete (epoch milliseconds), in the run that fetched it. */
  fetchedAt: Schema.optional(Schema.Number)
}) {
  get ticker(): Ticker {
    return this.fundamentals.ticker
  }

  /**
   * This score as a cache answers it: for `input`, computed at `cachedAt`.
   * A warm run answers every company this way, so the copy is made without
   * the class constructor (about 3 µs, against 0.4 µs for a copy of the
   * fields onto the same prototype); the result is equal, field for field,
   * to the one the constructor would make.
   *
   * @since 0.1.0
   */
  static readonly fromCache = (scored: Scored, input: string, cachedAt: number): Scored => {
    if (scored.input === input && scored.cachedAt !== undefined && scored.secondPass === undefined) return scored
    const copy: { -readonly [K in keyof Scored]: Scored[K] } = Object.assign(Object.create(Scored.prototype) as Scored, scored, {
      input,
      cachedAt: scored.cachedAt ?? cachedAt
    })
    // a cache answers the score, not the pass that computed it
    if ("secondPass" in copy) delete copy.secondPass
    return copy as Scored
  }
}

// ---------------------------------------------------------------------------
// Why a company was skipped
// ---------------------------------------------------------------------------

/**
 * The reason logged and reported when a company's data missed its deadline.
 *
 * @since 0.1.0
 */
export const DATA_INCOMPLETE = "Data Incomplete"
/**
 * The reason logged and reported when an input is not in the universe.
 *
 * @since 0.1.0
 */
export const UNKNOWN_COMPANY = "Unknown company"

/**
 * Some data did not arrive before the company's deadline.
 *
 * @since 0.1.0
 */
export class DataIncomplete extends Schema.TaggedClass<DataIncomplete>()("DataIncomplete", {}) {}

/**
 * What the user typed is not in the universe.
 *
 * @since 0.1.0
 */
export class NotInUniverse extends Schema.TaggedClass<NotInUniverse>()("NotInUniverse", {
  suggestion: Schema.optional(Schema.String)
}) {}

/**
 * A source answered, but with a failure (`HTTP 404`, `payload invalid`, a failed database worker).
 *
 * @since 0.1.0
 */
export class ProviderFailed extends Schema.TaggedClass<ProviderFailed>()("ProviderFailed", {
  source: Source,
  status: Schema.optional(Schema.Int),
  reason: Schema.String,
  /** A transient failure (a connection error, 5xx, 429): the same request may succeed later. */
  retryable: Schema.optional(Schema.Boolean)
}) {}

/**
 * The data arrived, but the scorer failed or timed out.
 *
 * @since 0.1.0
 */
export class ScoringFailed extends Schema.TaggedClass<ScoringFailed>()("ScoringFailed", {
  reason: Schema.String
}) {}

/**
 * A bug: the company's processing died. Reported, logged in full, and the run goes on.
 *
 * @since 0.1.0
 */
export class InternalError extends Schema.TaggedClass<InternalError>()("InternalError", {
  defect: Schema.String
}) {}

/**
 * Why a company was skipped: `DataIncomplete`, `NotInUniverse`, `ProviderFailed`, `ScoringFailed` or `InternalError`.
 *
 * @since 0.1.0
 */
export const SkipReason = Schema.Union(DataIncomplete, NotInUniverse, ProviderFailed, ScoringFailed, InternalError)
/**
 * A decoded `SkipReason`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type SkipReason = typeof SkipReason.Type

/**
 * A stable, machine-readable code per kind of skip (the JSON report's `reasonCode`).
 *
 * @since 0.1.0
 */
export const reasonCode = (reason: SkipReason): string => {
  switch (reason._tag) {
    case "DataIncomplete":
      return "data-incomplete"
    case "NotInUniverse":
      return "unknown-company"
    case "ProviderFailed":
      return "provider-failed"
    case "ScoringFailed":
      return "scoring-failed"
    case "InternalError":
      return "internal-error"
  }
}

/**
 * The reason as one line of text, as reports print it.
 *
 * @since 0.1.0
 */
export const reasonText = (reason: SkipReason): string => {
  switch (reason._tag) {
    case "DataIncomplete":
      return DATA_INCOMPLETE
    case "NotInUniverse":
      return UNKNOWN_COMPANY
    case "ProviderFailed":
      return `${DATA_INCOMPLETE}: ${reason.source} ${reason.reason}`
    case "ScoringFailed":
      return `Scoring failed: ${reason.reason}`
    case "InternalError":
      return `Internal error: ${reason.defect}`
  }
}

/**
 * A company that was skipped, with the reason and the sources that never arrived.
 *
 * @since 0.1.0
 */
export class Skipped extends Schema.TaggedClass<Skipped>()("Skipped", {
  input: Schema.String,
  ticker: Schema.NullOr(Ticker),
  reason: SkipReason,
  missing: Schema.Array(Source),
  detail: Schema.optional(Schema.String),
  /** Skipped again in the run's second pass (`RunOptions.secondPass`). */
  secondPass: Schema.optional(Schema.Boolean)
}) {
  /**
   * Whether the skip may not happen again on a later try: a missed deadline,
   * or a provider's transient failure. What the second pass retries.
   */
  get transient(): boolean {
    return this.reason._tag === "DataIncomplete" || (this.reason._tag === "ProviderFailed" && this.reason.retryable === true)
  }
}

/**
 * What a run gives for one company: `Scored` or `Skipped`.
 *
 * @since 0.1.0
 */
export const CompanyOutcome = Schema.Union(Scored, Skipped)
/**
 * A decoded `CompanyOutcome`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type CompanyOutcome = typeof CompanyOutcome.Type

/**
 * `outcome`, marked as the second pass's: a copy of its fields onto its own class.
 *
 * @since 0.1.0
 */
export const inSecondPass = <A extends CompanyOutcome>(outcome: A): A =>
  Object.assign(Object.create(Object.getPrototypeOf(outcome)) as A, outcome, { secondPass: true })

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * A source could not give a company's data. One shape for the three sources;
 * what it says about trying again is declared here once: transient failures
 * (connection errors, 5xx, 429) are `retryable`, and a 429 may say when
 * (`Retry-After`, as `retryAfterMs`).
 *
 * @since 0.1.0
 */
export class SourceError extends Schema.TaggedError<SourceError>()("SourceError", {
  source: Source,
  ticker: Ticker,
  reason: Schema.String,
  /** The HTTP status, when a provider answered with one. */
  status: Schema.optional(Schema.Int),
  retryable: Schema.optional(Schema.Boolean),
  retryAfterMs: Schema.optional(Schema.Number)
}) {
  override get message() {
    return `${this.source} for ${this.ticker}: ${this.reason}`
  }
}

/**
 * Ends the reason of a 401 or 403 to a request that carried no key.
 *
 * @since 0.1.0
 */
export const NO_KEY_SENT = "no API key was sent"

/**
 * A provider refused this program's credentials (HTTP 401 or 403): no
 * company can get its data, so the run stops with this one error instead
 * of skipping every company.
 *
 * @since 0.1.0
 */
export class ProviderRefused extends Schema.TaggedError<ProviderRefused>()("ProviderRefused", {
  source: Source,
  /** 401 or 403; 0 when the provider never answered and refuses every connection. */
  status: Schema.Int,
  /** What the last request met (`HTTP 401; no API key was sent`, a connection error). */
  reason: Schema.optional(Schema.String)
}) {
  /**
   * Whether `error` ends the run: the credentials refused, or a provider that is not there at all.
   *
   * @since 0.1.0
   */
  static readonly is = (error: SourceError): boolean => error.status === 401 || error.status === 403 || error.status === 0

  override get message() {
    const key = `ESG_${this.source.toUpperCase()}_API_KEY`
    if (this.status === 0) {
      return `the ${this.source} API refuses every connection: ${this.reason ?? "no answer"}; ` +
        `check --${this.source}-url (or ESG_${this.source.toUpperCase()}_URL) and that the provider is running`
    }
    return this.reason?.endsWith(NO_KEY_SENT) === true
      ? `the ${this.source} API wants an API key (HTTP ${this.status}) and none was sent: set ${key}`
      : `the ${this.source} API refused the API key (HTTP ${this.status}): check ${key}`
  }
}

/**
 * A requested company is not in the universe.
 *
 * @since 0.1.0
 */
export class UnknownCompany extends Schema.TaggedError<UnknownCompany>()("UnknownCompany", {
  input: Schema.String,
  suggestion: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${UNKNOWN_COMPANY}: ${this.input}${this.suggestion === undefined ? "" : ` (did you mean ${this.suggestion}?)`}`
  }
}

/**
 * The scorer failed for a company (bad inputs or a crashed worker).
 *
 * @since 0.1.0
 */
export class ScoringError extends Schema.TaggedError<ScoringError>()("ScoringError", {
  ticker: Ticker,
  reason: Schema.String
}) {
  override get message() {
    return `scoring ${this.ticker}: ${this.reason}`
  }
}

// ---------------------------------------------------------------------------
// The universe
// ---------------------------------------------------------------------------

/**
 * One row of the company universe: what the internal database holds, plus the
 * emission and governance figures the simulated providers serve.
 *
 * @since 0.1.0
 */
export class CompanyRecord extends Schema.Class<CompanyRecord>("CompanyRecord")({
  ticker: Ticker,
  name: Schema.NonEmptyTrimmedString,
  sector: Sector,
  marketCapUsd: NonNegative,
  revenueUsdM: Positive,
  scope1Tco2e: NonNegative,
  scope2Tco2e: NonNegative,
  uncertaintyPct: Schema.Number.pipe(Schema.finite(), Schema.between(0, 100)),
  reportingYear: Schema.Int.pipe(Schema.between(1990, 2100)),
  governanceScore: ZeroToTen,
  /** Key-issue deductions; stored as `issue:points` joined by `;`. */
  governanceDeductions: DeductionsFromText
}) {}
