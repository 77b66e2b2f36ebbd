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

/** Answers once the worker is up and its database open: how a pool knows a worker can take requests. */
export class Ping extends Schema.TaggedRequest<Ping>()("Ping", {
  failure: Schema.Never,
  success: Schema.Void,
  payload: {}
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

export const WorkerRequest = Schema.Union(Ping, LookupFundamentals, ScoreCompany)
export type WorkerRequest = typeof WorkerRequest.Type
