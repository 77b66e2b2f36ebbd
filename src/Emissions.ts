/**
 * The external carbon-emissions API.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { type CompanyRecord, EmissionData, EmissionsError, type Ticker } from "./Domain.js"
import { indexByTicker, type Latency, latencyOf } from "./internal/Simulated.js"
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
      const byTicker = indexByTicker(options.records ?? sampleUniverse)
      const latency = options.latency ?? "1200 millis"
      return Emissions.of({
        origin: "simulated",
        fetch: Effect.fn("Emissions.fetch")(function*(ticker: Ticker) {
          yield* Effect.sleep(latencyOf(latency, ticker))
          const record = byTicker.get(ticker)
          if (record === undefined) {
            return yield* new EmissionsError({ ticker, reason: "HTTP 404" })
          }
          return toEmissionData(record)
        })
      })
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
