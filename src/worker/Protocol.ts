/**
 * The requests the main thread sends to the worker pool, shared by both
 * sides. Each is a `Schema.TaggedRequest`: payload, success and typed failure
 * are encoded across the thread boundary.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { FundamentalsData, Score, ScoreInput, ScoringError, SourceError, Ticker } from "../Domain.js"

/**
 * What every worker thread is started with (as `workerData`), so that a
 * thread the pool respawns after a crash comes back with the same database
 * and settings.
 */
export const WorkerConfig = Schema.Struct({
  /** The universe database; `null` runs the worker without one (scoring against no peers). */
  dbPath: Schema.NullOr(Schema.String),
  /** Emulated blocking latency of one fundamentals lookup, in milliseconds. */
  dbLatencyMs: Schema.Number,
  samples: Schema.Int,
  seed: Schema.Int
})
export type WorkerConfig = typeof WorkerConfig.Type

export class Resolution extends Schema.Class<Resolution>("Resolution")({
  input: Schema.String,
  ticker: Schema.NullOr(Ticker),
  suggestion: Schema.NullOr(Schema.String)
}) {}

/** Resolves user input to tickers through the database's names. */
export class ResolveCompanies extends Schema.TaggedRequest<ResolveCompanies>()("ResolveCompanies", {
  failure: Schema.Never,
  success: Schema.Array(Resolution),
  payload: { inputs: Schema.Array(Schema.String) }
}) {}

/** One fundamentals lookup: a synchronous, blocking SQLite query. */
export class LookupFundamentals extends Schema.TaggedRequest<LookupFundamentals>()("LookupFundamentals", {
  failure: SourceError,
  success: FundamentalsData,
  payload: { ticker: Ticker }
}) {}

/** Scores one company, Monte Carlo included. */
export class ScoreCompany extends Schema.TaggedRequest<ScoreCompany>()("ScoreCompany", {
  failure: ScoringError,
  success: Score,
  payload: { input: ScoreInput }
}) {}

export const WorkerRequest = Schema.Union(ResolveCompanies, LookupFundamentals, ScoreCompany)
export type WorkerRequest = typeof WorkerRequest.Type
