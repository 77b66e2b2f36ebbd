/**
 * esg-aggregator as a library, named item by named item: the domain, the
 * services with their layers, the pipeline, the one wiring place (`App`)
 * and the report renderers. Apart, on subpaths: a team's store and gate on
 * PostgreSQL (`esg-aggregator/team`), the local provider server
 * (`esg-aggregator/provider-server`) and the kit for tests in virtual time
 * (`esg-aggregator/testing`). Worker pools, HTTP helpers and the command
 * line's output are internals.
 *
 * @since 0.1.0
 */

// The domain: companies, their data, scores, outcomes and errors
export * as Domain from "./Domain.js"
export {
  type CompanyOutcome,
  type CompanyRecord,
  type EmissionData,
  type ExternalSource,
  type FundamentalsData,
  type GovernanceRating,
  ProviderRefused,
  type Rating,
  type Score,
  type Scored,
  type Skipped,
  type Source,
  SourceError,
  type Ticker
} from "./Domain.js"
export type { Latency } from "./internal/Simulated.js"
export { Scenario } from "./Scenario.js"

// The sources, each a service with its layers
export { Emissions, type EmissionsService } from "./Emissions.js"
export type { ProviderEndpoint } from "./internal/HttpProvider.js"
export { Fundamentals, type FundamentalsService } from "./Fundamentals.js"
export { Governance, type GovernanceService } from "./Governance.js"
export { Universe, type UniverseService, type UniverseSource, UniverseUnavailable } from "./universe/Universe.js"
export { sampleUniverse } from "./universe/SampleUniverse.js"

// The gate, the deadline and the retries
export {
  ApiGate,
  type ApiGateService,
  type CallInFlight,
  type GateCompany,
  type GateRequest,
  type GateStats,
  GateUnavailable,
  type Retry,
  type SharedPermits
} from "./ApiGate.js"
export { type Deadline, DeadlinePassed } from "./Deadline.js"
export { defaultRetryPolicy, type RetryPolicy } from "./RetryPolicy.js"

// The score, the index cache and the persistent store
export { ScoreEngine, type ScoreEngineService, type InlineOptions } from "./ScoreEngine.js"
export * as ScoreModel from "./ScoreModel.js"
export { type CacheEntry, IndexCache } from "./IndexCache.js"
export { type PastScore, ScoreStore, type ScoreStoreService, ScoreStoreUnavailable, type StoredScore } from "./ScoreStore.js"
export { WorkerStartError } from "./worker/WorkerPool.js"

// The pipeline and its wiring
export { Aggregator, type AggregatorService } from "./Aggregator.js"
export type { Admitted, Schedule, Turn } from "./Admission.js"
export { CompanyRun, type CompanyRunOptions, type CompanyRunService } from "./CompanyRun.js"
export type { Job, Reported } from "./Intake.js"
export type { RunConfig, RunOptions } from "./RunConfig.js"
export { allScored, type Origins, type RunReport, type RunSummary } from "./Summary.js"
export type { RunMetrics } from "./Metrics.js"
export * as App from "./App.js"

// The report
export * as Portfolio from "./Portfolio.js"
export * as Report from "./Report.js"
export * as HtmlReport from "./HtmlReport.js"
export type { CallRecord } from "./Timeline.js"
export * as UniverseCsv from "./universe/Csv.js"
