/**
 * The internal fundamentals database (market cap, sector, revenue): the
 * mission's blocking source. It also resolves what users type to tickers,
 * since the database is where names live.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type * as Either from "effect/Either"
import { makeDirectory } from "./CompanyDirectory.js"
import { type CompanyRecord, Fundamentals as FundamentalsData, FundamentalsError, type Ticker, type UnknownCompany } from "./Domain.js"
import { type Latency, simulatedLookup } from "./internal/Simulated.js"
import { sampleUniverse } from "./SampleUniverse.js"

export interface FundamentalsService {
  /** Where the data comes from, for the report: `simulated`, a database path or a base URL. */
  readonly origin: string
  /** Resolves user input (ticker or name, any case), one result per input, in order. */
  readonly resolve: (inputs: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Either.Either<Ticker, UnknownCompany>>>
  /** Looks up one company's fundamentals. */
  readonly fetch: (ticker: Ticker) => Effect.Effect<FundamentalsData, FundamentalsError>
}

export class Fundamentals extends Context.Tag("esg-aggregator/Fundamentals")<Fundamentals, FundamentalsService>() {
  /** In-process fundamentals from a list of records, each lookup taking `latency` (default the scenario's 0.8 s). */
  static readonly layerSimulated = (options: {
    readonly records?: ReadonlyArray<CompanyRecord> | undefined
    readonly latency?: Latency | undefined
  } = {}): Layer.Layer<Fundamentals> =>
    Layer.sync(Fundamentals, () => {
      const records = options.records ?? sampleUniverse
      const directory = makeDirectory(records)
      const lookup = simulatedLookup({
        records,
        latency: options.latency ?? "800 millis",
        found: toFundamentals,
        notFound: (ticker) => new FundamentalsError({ ticker, reason: "not in the database" })
      })
      return Fundamentals.of({
        origin: "simulated",
        resolve: (inputs) => Effect.sync(() => inputs.map(directory.resolve)),
        fetch: (ticker) => lookup(ticker).pipe(Effect.withSpan("Fundamentals.fetch", { attributes: { ticker } }))
      })
    })
}

export const toFundamentals = (record: CompanyRecord): FundamentalsData =>
  new FundamentalsData({
    ticker: record.ticker,
    name: record.name,
    sector: record.sector,
    marketCapUsd: record.marketCapUsd,
    revenueUsdM: record.revenueUsdM
  })
