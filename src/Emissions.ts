/**
 * The external carbon-emissions API.
 *
 * @since 0.1.0
 */
import { Context, type Effect, Layer } from "effect"
import { type CompanyRecord, EmissionData, type EmissionsBasis, SourceError, type Ticker } from "./Domain.js"
import { hashString } from "./internal/Prng.js"
import { type ProviderEndpoint, providerHttpLayer } from "./internal/HttpProvider.js"
import { type Latency, simulatedLookup } from "./internal/Simulated.js"
import { Scenario } from "./Scenario.js"
import { universeOf, type UniverseSource } from "./universe/Universe.js"

/**
 * An emissions source: `fetch` makes one request for a company's emission data (no retries); `origin` names where it comes from.
 *
 * @since 0.1.0
 */
export interface EmissionsService {
  /** Where the data comes from, for the report: `simulated`, a database path or a base URL. */
  readonly origin: string
  /** One request for one company's emission data (no retries: the pipeline owns retry policy). */
  readonly fetch: (ticker: Ticker) => Effect.Effect<EmissionData, SourceError>
}

/**
 * The emissions source as a service, with its layers: `layerSimulated` (in process) and `layerHttp` (a provider over HTTP).
 *
 * @since 0.1.0
 */
export class Emissions extends Context.Tag("esg-aggregator/Emissions")<Emissions, EmissionsService>() {
  /**
   * In-process emissions API serving the universe's figures (default: the
   * sample universe) after `latency` (default the scenario's 1.2 s).
   *
   * @since 0.1.0
   */
  static readonly layerSimulated = (options: UniverseSource & {
    readonly latency?: Latency | undefined
  } = {}): Layer.Layer<Emissions> =>
    Layer.sync(Emissions, () =>
      Emissions.of({
        origin: "simulated",
        fetch: simulatedLookup({
          record: universeOf(options, "Emissions.layerSimulated").record,
          latency: options.latency ?? Scenario.latency.emissions,
          found: toEmissionData,
          notFound: (ticker) => new SourceError({ source: "emissions", ticker, reason: "HTTP 404", status: 404 })
        })
      }))

  /**
   * The provider over HTTP: one `GET {baseUrl}/emissions/{ticker}` per call, the key as a bearer token.
   *
   * @since 0.1.0
   */
  static readonly layerHttp: (endpoint: ProviderEndpoint) => Layer.Layer<Emissions> =
    providerHttpLayer(Emissions, { source: "emissions", schema: EmissionData })
}

/**
 * A universe record's scope 1 and 2 emissions, uncertainty and reporting year as the data the emissions API would serve.
 *
 * @since 0.1.0
 */
export const toEmissionData = (record: CompanyRecord): EmissionData =>
  new EmissionData({
    ticker: record.ticker,
    scope1Tco2e: record.scope1Tco2e,
    scope2Tco2e: record.scope2Tco2e,
    uncertaintyPct: record.uncertaintyPct,
    reportingYear: record.reportingYear,
    basis: basisOf(record)
  }, true)

/**
 * The basis the simulated providers state, from the universe's uncertainty: a modelled figure (more than 10 %) is
 * estimated; a reported one is verified for half the companies (by their ticker's hash), unverified for the rest.
 */
const basisOf = (record: CompanyRecord): EmissionsBasis =>
  record.uncertaintyPct > 10 ? "estimated" : hashString(record.ticker) % 2 === 0 ? "verified" : "reported"
