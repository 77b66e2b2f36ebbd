/**
 * esg-aggregator as a library: the domain, the services with their layers,
 * the aggregator pipeline and the report renderers.
 *
 * @since 0.1.0
 */
export * from "./Aggregator.js"
export * from "./ApiGate.js"
export * from "./CompanyDirectory.js"
export * as Domain from "./Domain.js"
export * from "./Emissions.js"
export * from "./Fundamentals.js"
export * from "./Governance.js"
export * from "./IndexCache.js"
export * from "./Output.js"
export * from "./ProviderClient.js"
export * from "./ProviderServer.js"
export * as Report from "./Report.js"
export * from "./RetryPolicy.js"
export * from "./SampleUniverse.js"
export * from "./ScoreEngine.js"
export * as ScoreModel from "./ScoreModel.js"
export * from "./Universe.js"
export * as UniverseDb from "./UniverseDb.js"
export * from "./WorkerPool.js"
