/**
 * The partner governance-ratings API.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { Context, Effect, Layer } from "effect"
import { type CompanyRecord, GovernanceError, GovernanceRating, type Ticker } from "./Domain.js"
import { type Latency, simulatedLookup } from "./internal/Simulated.js"
import { type ProviderEndpoint, providerHttpLayer } from "./ProviderClient.js"
import { parseDeductions, sampleUniverse } from "./SampleUniverse.js"

export interface GovernanceService {
  /** Where the data comes from, for the report: `simulated`, a database path or a base URL. */
  readonly origin: string
  /** One request for one company's governance rating (no retries: the pipeline owns retry policy). */
  readonly fetch: (ticker: Ticker) => Effect.Effect<GovernanceRating, GovernanceError>
}

export class Governance extends Context.Tag("esg-aggregator/Governance")<Governance, GovernanceService>() {
  /** In-process partner API serving the universe's ratings after `latency` (default the scenario's 1.0 s). */
  static readonly layerSimulated = (options: {
    readonly records?: ReadonlyArray<CompanyRecord> | undefined
    readonly latency?: Latency | undefined
  } = {}): Layer.Layer<Governance> =>
    Layer.sync(Governance, () => {
      const lookup = simulatedLookup({
        records: options.records ?? sampleUniverse,
        latency: options.latency ?? "1000 millis",
        found: toGovernanceRating,
        notFound: (ticker) => new GovernanceError({ ticker, reason: "HTTP 404" })
      })
      return Governance.of({
        origin: "simulated",
        fetch: (ticker) => lookup(ticker).pipe(Effect.withSpan("Governance.fetch", { attributes: { ticker } }))
      })
    })

  /** The provider over HTTP: one `GET {baseUrl}/governance/{ticker}` per call, the key as a bearer token. */
  static readonly layerHttp: (endpoint: ProviderEndpoint) => Layer.Layer<Governance, never, HttpClient.HttpClient> =
    providerHttpLayer(Governance, {
      path: "/governance",
      schema: GovernanceRating,
      fail: (fields) => new GovernanceError(fields),
      span: "Governance.fetch"
    })
}

export const toGovernanceRating = (record: CompanyRecord): GovernanceRating =>
  new GovernanceRating({
    ticker: record.ticker,
    score: record.governanceScore,
    deductions: parseDeductions(record.governanceDeductions)
  })
