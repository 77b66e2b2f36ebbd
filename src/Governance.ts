/**
 * The partner governance-ratings API.
 *
 * @since 0.1.0
 */
import { Context, type Effect, Layer } from "effect"
import { type CompanyRecord, GovernanceRating, SourceError, type Ticker } from "./Domain.js"
import { type ProviderEndpoint, providerHttpLayer } from "./internal/HttpProvider.js"
import { type Latency, simulatedLookup } from "./internal/Simulated.js"
import { Scenario } from "./Scenario.js"
import { universeOf, type UniverseSource } from "./universe/Universe.js"

/**
 * A governance source: `fetch` makes one request for a company's rating (no retries); `origin` names where it comes from.
 *
 * @since 0.1.0
 */
export interface GovernanceService {
  /** Where the data comes from, for the report: `simulated`, a database path or a base URL. */
  readonly origin: string
  /** One request for one company's governance rating (no retries: the pipeline owns retry policy). */
  readonly fetch: (ticker: Ticker) => Effect.Effect<GovernanceRating, SourceError>
}

/**
 * The governance source as a service, with its layers: `layerSimulated` (in process) and `layerHttp` (a provider over HTTP).
 *
 * @since 0.1.0
 */
export class Governance extends Context.Tag("esg-aggregator/Governance")<Governance, GovernanceService>() {
  /**
   * In-process partner API serving the universe's ratings (default: the
   * sample universe) after `latency` (default the scenario's 1.0 s).
   *
   * @since 0.1.0
   */
  static readonly layerSimulated = (options: UniverseSource & {
    readonly latency?: Latency | undefined
  } = {}): Layer.Layer<Governance> =>
    Layer.sync(Governance, () =>
      Governance.of({
        origin: "simulated",
        fetch: simulatedLookup({
          record: universeOf(options, "Governance.layerSimulated").record,
          latency: options.latency ?? Scenario.latency.governance,
          found: toGovernanceRating,
          notFound: (ticker) => new SourceError({ source: "governance", ticker, reason: "HTTP 404", status: 404 })
        })
      }))

  /**
   * The provider over HTTP: one `GET {baseUrl}/governance/{ticker}` per call, the key as a bearer token.
   *
   * @since 0.1.0
   */
  static readonly layerHttp: (endpoint: ProviderEndpoint) => Layer.Layer<Governance> =
    providerHttpLayer(Governance, { source: "governance", schema: GovernanceRating })
}

/**
 * A universe record's governance score and deductions as the rating the partner API would serve.
 *
 * @since 0.1.0
 */
export const toGovernanceRating = (record: CompanyRecord): GovernanceRating =>
  new GovernanceRating({
    ticker: record.ticker,
    score: record.governanceScore,
    deductions: record.governanceDeductions
  }, true)
