/**
 * The requests the main thread sends to the worker pool, shared by both
 * sides. Each is a `Schema.TaggedRequest`: payload, success and typed failure
 * are encoded across the thread boundary.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { CompanyRecord, Fundamentals, FundamentalsError, Score, ScoreInput, ScoringError, Ticker } from "../Domain.js"

/** Sent once to every worker as it starts: which database to open and how slow to make it. */
export class InitialMessage extends Schema.TaggedRequest<InitialMessage>()("InitialMessage", {
  failure: Schema.Never,
  success: Schema.Void,
  payload: {
    /** The universe database; `null` runs the worker without one (scoring against no peers). */
    dbPath: Schema.NullOr(Schema.String),
    /** Emulated blocking latency of one fundamentals lookup, in milliseconds. */
    dbLatencyMs: Schema.Number,
    samples: Schema.Int,
    seed: Schema.Int
  }
}) {}

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
  failure: FundamentalsError,
  success: Fundamentals,
  payload: { ticker: Ticker }
}) {}

/** Scores one company, Monte Carlo included. */
export class ScoreCompany extends Schema.TaggedRequest<ScoreCompany>()("ScoreCompany", {
  failure: ScoringError,
  success: Score,
  payload: { input: ScoreInput }
}) {}

/** Every company in the database (the simulated providers serve their figures). */
export class ListCompanies extends Schema.TaggedRequest<ListCompanies>()("ListCompanies", {
  failure: Schema.Never,
  success: Schema.Array(CompanyRecord),
  payload: {}
}) {}

export const WorkerRequest = Schema.Union(InitialMessage, ResolveCompanies, LookupFundamentals, ScoreCompany, ListCompanies)
export type WorkerRequest = typeof WorkerRequest.Type
