/**
 * The internal fundamentals database (market cap, sector, revenue): the
 * mission's blocking source. It also resolves what users type to tickers,
 * since the database is where names live.
 *
 * @since 0.1.0
 */
import { Context, type Duration, Effect, type Either, ExecutionStrategy, Exit, Layer, Scope } from "effect"
import { type CompanyRecord, FundamentalsData, SourceError, type Ticker, type UnknownCompany } from "./Domain.js"
import { type Latency, simulatedLookup } from "./internal/Simulated.js"
import { Scenario } from "./Scenario.js"
import { Universe, universeOf, type UniverseSource, type UniverseUnavailable } from "./universe/Universe.js"
import { LookupFundamentals } from "./worker/Protocol.js"
import { DatabaseWorkers, type Reserved, type WorkerStartError } from "./worker/WorkerPool.js"

/**
 * A fundamentals source: resolves what users type to tickers, looks up a company's fundamentals, and reserves a lookup's database thread ahead of it.
 *
 * @since 0.1.0
 */
export interface FundamentalsService {
  /** Where the data comes from, for the report: `simulated`, a database path or a base URL. */
  readonly origin: string
  /** Resolves user input (ticker or name, any case), one result per input, in order. */
  readonly resolve: (inputs: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Either.Either<Ticker, UnknownCompany>>>
  /** Looks up one company's fundamentals. */
  readonly fetch: (ticker: Ticker) => Effect.Effect<FundamentalsData, SourceError>
  /**
   * Holds, in the scope, what `ticker`'s lookup needs on this side (a
   * database thread free for it), and gives the lookup, which then goes out
   * at once. A company reserves it before its first request, so that its
   * deadline never runs while this process starts or grows its own parts.
   */
  readonly reserve: (ticker: Ticker) => Effect.Effect<Effect.Effect<FundamentalsData, SourceError>, SourceError, Scope.Scope>
}

/**
 * The fundamentals source as a service, with its layers: `layerSimulated`, `layerUniverse` (this thread) and `layerDatabase` (worker threads).
 *
 * @since 0.1.0
 */
export class Fundamentals extends Context.Tag("esg-aggregator/Fundamentals")<Fundamentals, FundamentalsService>() {
  /**
   * In-process fundamentals from a universe or a list of records (default:
   * the sample universe), each lookup taking `latency` (default the
   * scenario's 0.8 s).
   *
   * @since 0.1.0
   */
  static readonly layerSimulated = (options: UniverseSource & {
    readonly latency?: Latency | undefined
  } = {}): Layer.Layer<Fundamentals> =>
    Layer.sync(Fundamentals, () => {
      const universe = universeOf(options, "Fundamentals.layerSimulated")
      const lookup = simulatedLookup({
        record: universe.record,
        latency: options.latency ?? Scenario.latency.fundamentals,
        found: toFundamentals,
        notFound: (ticker) => new SourceError({ source: "fundamentals", ticker, reason: "not in the database" })
      })
      return Fundamentals.of({
        origin: "simulated",
        resolve: universe.resolve,
        fetch: lookup,
        reserve: (ticker) => Effect.succeed(lookup(ticker))
      })
    })

  /**
   * Fundamentals read on this thread from the `Universe` (the SQLite
   * database, opened here): for lookups that do not block, a primary-key
   * read of a few microseconds, less than a message to a thread would cost.
   * `origin` names the database for the report.
   *
   * @since 0.1.0
   */
  static readonly layerUniverse = (origin: string): Layer.Layer<Fundamentals, never, Universe> =>
    Layer.effect(
      Fundamentals,
      Effect.map(Universe, (universe) => {
        const lookup = simulatedLookup({
          record: universe.record,
          latency: 0,
          found: toFundamentals,
          notFound: (ticker) => new SourceError({ source: "fundamentals", ticker, reason: "not in the database" })
        })
        return Fundamentals.of({
          origin,
          resolve: universe.resolve,
          fetch: lookup,
          reserve: (ticker) => Effect.succeed(lookup(ticker))
        })
      })
    )

  /**
   * Fundamentals from the SQLite universe database at `path`, each lookup a
   * blocking query on a pool of worker threads (`workers`, default 2) started
   * with the layer, taking `latency` more (default the scenario's 0.8 s; 0
   * for the database's own speed). Names resolve on this thread against the
   * same file. Needs the optional `better-sqlite3`.
   *
   * @since 0.1.0
   */
  static readonly layerDatabase = (path: string, options: {
    readonly workers?: number | undefined
    readonly latency?: Duration.DurationInput | undefined
  } = {}): Layer.Layer<Fundamentals, UniverseUnavailable | WorkerStartError> =>
    layerOnWorkers(path).pipe(Layer.provide(Layer.merge(
      DatabaseWorkers.layer({ size: options.workers ?? 2, dbPath: path, dbLatency: options.latency ?? Scenario.latency.fundamentals }),
      Universe.layerFromDatabase(path)
    )))
}

/**
 * Fundamentals from the SQLite universe database, queried synchronously on the
 * `DatabaseWorkers` pool: the blocking call never touches the main event loop.
 * Names resolve on this thread against the `Universe` (no blocking call),
 * so a run can start while the pool is still starting. A crashed worker
 * fails only the lookup it was serving. For a composition that shares its
 * pools (the command line); `Fundamentals.layerDatabase` is this with its own.
 *
 * @since 0.1.0
 */
export const layerOnWorkers = (origin: string): Layer.Layer<Fundamentals, never, DatabaseWorkers | Universe> =>
  Layer.effect(
    Fundamentals,
    Effect.gen(function*() {
      const pool = yield* DatabaseWorkers
      const universe = yield* Universe
      const crashed = (ticker: Ticker) => (error: { readonly message: string }) =>
        Effect.fail(new SourceError({ source: "fundamentals", ticker, reason: `database worker failed: ${error.message}` }))
      const lookup = (ticker: Ticker, on: Pick<Reserved, "executeEffect">) =>
        on.executeEffect(new LookupFundamentals({ ticker })).pipe(
          Effect.catchTags({ WorkerError: crashed(ticker), ParseError: crashed(ticker), WorkerStartError: crashed(ticker) }),
          Effect.withSpan("Fundamentals.fetch", { attributes: { ticker }, captureStackTrace: false })
        )
      return Fundamentals.of({
        origin,
        resolve: universe.resolve,
        fetch: (ticker) => lookup(ticker, pool),
        // the place is held until the lookup is done (or the scope closes, when it never went out)
        reserve: (ticker) =>
          Effect.gen(function*() {
            const own = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
            const place = yield* Scope.extend(Effect.catchTag(pool.reserve, "WorkerStartError", crashed(ticker)), own)
            return Effect.ensuring(lookup(ticker, place), Scope.close(own, Exit.void))
          })
      })
    })
  )

/**
 * A universe record's name, sector, market cap and revenue as the fundamentals the database would give.
 *
 * @since 0.1.0
 */
export const toFundamentals = (record: CompanyRecord): FundamentalsData =>
  new FundamentalsData({
    ticker: record.ticker,
    name: record.name,
    sector: record.sector,
    marketCapUsd: record.marketCapUsd,
    revenueUsdM: record.revenueUsdM
  }, true)
