/**
 * esg-aggregator as a library: the domain, the services with their layers,
 * the pipeline (admission, one company's run, the whole run as a stream),
 * the one wiring place (`App`) and the report renderers. A team's store
 * and gate on PostgreSQL are in `esg-aggregator/team`, apart: only a team
 * loads the PostgreSQL client.
 *
 * @since 0.1.0
 */
export * as Admission from "./Admission.js"
export * from "./Aggregator.js"
export * from "./Intake.js"
export * from "./RunConfig.js"
export * from "./Summary.js"
export * from "./ApiGate.js"
export * as App from "./App.js"
export * from "./cli/Output.js"
export * from "./CompanyRun.js"
export * as Deadline from "./Deadline.js"
export * as Domain from "./Domain.js"
export * from "./Emissions.js"
export * from "./Fundamentals.js"
export * from "./Governance.js"
export * from "./IndexCache.js"
export * from "./internal/HttpProvider.js"
export * from "./provider-server/ProviderServer.js"
export * as Report from "./Report.js"
export * from "./RetryPolicy.js"
export * from "./Scenario.js"
export * from "./ScoreEngine.js"
export * from "./ScoreStore.js"
export * as ScoreModel from "./ScoreModel.js"
export * from "./universe/CompanyDirectory.js"
export * as UniverseCsv from "./universe/Csv.js"
export * as UniverseDb from "./universe/Database.js"
export * from "./universe/SampleUniverse.js"
export * from "./universe/Universe.js"
export * from "./worker/WorkerPool.js"
