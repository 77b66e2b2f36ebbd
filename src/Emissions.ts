/**
 * The external carbon-emissions API.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { Context, Effect, Layer } from "effect"
import { type CompanyRecord, EmissionData, EmissionsError, type Ticker } from "./Domain.js"
import { type Latency, simulatedLookup } from "./internal/Simulated.js"
import { type ProviderEndpoint, providerHttpLayer } from "./ProviderClient.js"
import { sampleUniverse } from "./SampleUniverse.js"

export interface EmissionsService {
  /** Where the data comes from, for the report: `simulated`, a database path or a base URL. */
  readonly origin: string
  /** One request for one company's emission data (no retries: the pipeline owns retry policy). */
  readonly fetch: (ticker: Ticker) => Effect.Effect<EmissionData, EmissionsError>
}

export class Emissions extends Context.Tag("esg-aggregator/Emissions")<Emissions, EmissionsService>() {
  /** In-process emissions API serving the universe's figures after `latency` (default the scenario's 1.2 s). */
  static readonly layerSimulated = (options: {
    readonly records?: ReadonlyArray<CompanyRecord> | undefined
    readonly latency?: Latency | undefined
  } = {}): Layer.Layer<Emissions> =>
    Layer.sync(Emissions, () => {
      const lookup = simulatedLookup({
        records: options.records ?? sampleUniverse,
        latency: options.latency ?? "1200 millis",
        found: toEmissionData,
        notFound: (ticker) => new EmissionsError({ ticker, reason: "HTTP 404" })
      })
      return Emissions.of({
        origin: "simulated",
        fetch: (ticker) => lookup(ticker).pipe(Effect.withSpan("Emissions.fetch", { attributes: { ticker } }))
      })
    })

  /** The provider over HTTP: one `GET {baseUrl}/emissions/{ticker}` per call, the key as a bearer token. */
  static readonly layerHttp: (endpoint: ProviderEndpoint) => Layer.Layer<Emissions, never, HttpClient.HttpClient> =
    providerHttpLayer(Emissions, {
      path: "/emissions",
      schema: EmissionData,
      fail: (fields) => new EmissionsError(fields),
      span: "Emissions.fetch"
    })
}

export const toEmissionData = (record: CompanyRecord): EmissionData =>
  new EmissionData({
    ticker: record.ticker,
    scope1Tco2e: record.scope1Tco2e,
    scope2Tco2e: record.scope2Tco2e,
    uncertaintyPct: record.uncertaintyPct,
    reportingYear: record.reportingYear
  })
