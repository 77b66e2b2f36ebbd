/**
 * The internal fundamentals database (market cap, sector, revenue): the
 * mission's blocking source. It also resolves what users type to tickers,
 * since the database is where names live.
 *
 * @since 0.1.0
 */
import { Context, Effect, type Either, Layer } from "effect"
import { type CompanyRecord, FundamentalsData, SourceError, type Ticker, type UnknownCompany } from "./Domain.js"
import { type Latency, simulatedLookup } from "./internal/Simulated.js"
import { Scenario } from "./Scenario.js"
import { makeDirectory } from "./universe/CompanyDirectory.js"
import { sampleUniverse } from "./universe/SampleUniverse.js"
import { Universe } from "./universe/Universe.js"
import { LookupFundamentals } from "./worker/Protocol.js"
import { DatabaseWorkers } from "./worker/WorkerPool.js"

export interface FundamentalsService {
  /** Where the data comes from, for the report: `simulated`, a database path or a base URL. */
  readonly origin: string
  /** Resolves user input (ticker or name, any case), one result per input, in order. */
  readonly resolve: (inputs: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Either.Either<Ticker, UnknownCompany>>>
  /** Looks up one company's fundamentals. */
  readonly fetch: (ticker: Ticker) => Effect.Effect<FundamentalsData, SourceError>
  /**
   * Succeeds once `ticker`'s lookup could go out at once (the database
   * threads started): a company waits for it before its first request, so
   * that its deadline never runs while this process starts its own parts.
   */
  readonly ready: (ticker: Ticker) => Effect.Effect<void, SourceError>
}

export class Fundamentals extends Context.Tag("esg-aggregator/Fundamentals")<Fundamentals, FundamentalsService>() {
  /**
   * In-process fundamentals from a list of records (default: the sample
   * universe), each lookup taking `latency` (default the scenario's 0.8 s).
   */
  static readonly layerSimulated = (options: {
    readonly records?: ReadonlyArray<CompanyRecord> | undefined
    readonly latency?: Latency | undefined
  } = {}): Layer.Layer<Fundamentals> =>
    Layer.sync(Fundamentals, () => {
      const records = options.records ?? sampleUniverse()
      const directory = makeDirectory(records)
      const lookup = simulatedLookup({
        records,
        latency: options.latency ?? Scenario.latency.fundamentals,
        found: toFundamentals,
        notFound: (ticker) => new SourceError({ source: "fundamentals", ticker, reason: "not in the database" })
      })
      return Fundamentals.of({
        origin: "simulated",
        resolve: (inputs) => Effect.sync(() => inputs.map(directory.resolve)),
        fetch: lookup,
        ready: () => Effect.void
      })
    })

  /**
   * Fundamentals from the SQLite universe database, queried synchronously on the
   * `DatabaseWorkers` pool: the blocking call never touches the main event loop.
   * Names resolve on this thread against the `Universe` (no blocking call),
   * so a run can start while the pool is still starting. A crashed worker
   * fails only the lookup it was serving.
   */
  static readonly layerWorker = (origin: string): Layer.Layer<Fundamentals, never, DatabaseWorkers | Universe> =>
    Layer.effect(
      Fundamentals,
      Effect.gen(function*() {
        const pool = yield* DatabaseWorkers
        const directory = makeDirectory(yield* Universe)
        const crashed = (ticker: Ticker) => (error: { readonly message: string }) =>
          Effect.fail(new SourceError({ source: "fundamentals", ticker, reason: `database worker failed: ${error.message}` }))
        return Fundamentals.of({
          origin,
          resolve: (inputs) => Effect.sync(() => inputs.map(directory.resolve)),
          fetch: (ticker) =>
            pool.executeEffect(new LookupFundamentals({ ticker })).pipe(
              Effect.catchTags({ WorkerError: crashed(ticker), ParseError: crashed(ticker), WorkerStartError: crashed(ticker) }),
              Effect.withSpan("Fundamentals.fetch", { attributes: { ticker } })
            ),
          ready: (ticker) => Effect.catchTag(pool.warm, "WorkerStartError", crashed(ticker))
        })
      })
    )
}

export const toFundamentals = (record: CompanyRecord): FundamentalsData =>
  new FundamentalsData({
    ticker: record.ticker,
    name: record.name,
    sector: record.sector,
    marketCapUsd: record.marketCapUsd,
    revenueUsdM: record.revenueUsdM
  }, true)
