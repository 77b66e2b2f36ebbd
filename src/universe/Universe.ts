/**
 * The company universe: where names resolve, where the simulated providers
 * take their figures, and where the inline scorer finds each sector's
 * peers. In memory (the sample, tests, a library's own records) or a
 * universe database read on this thread through its indexes: opening one
 * reads nothing that grows with it, so a universe of the market costs what
 * the sample does at start.
 *
 * @since 0.1.0
 */
import { Chunk, Context, Effect, Either, Layer, Option, Schema, Stream } from "effect"
import type { CompanyRecord, Ticker, UnknownCompany } from "../Domain.js"
import { buildPeerStats, type PeerStats } from "../ScoreModel.js"
import { makeDirectory } from "./CompanyDirectory.js"

/**
 * The universe database cannot be read: the reason says what to fix.
 *
 * @since 0.1.0
 */
export class UniverseUnavailable extends Schema.TaggedError<UniverseUnavailable>()("UniverseUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/**
 * A company universe: its size, name resolution, one company's record, each sector's peers, every ticker as a stream.
 *
 * @since 0.1.0
 */
export interface UniverseService {
  /** The companies in it. */
  readonly size: number
  /** What users typed, each resolved to a ticker or an unknown company (with a suggestion when one is close). */
  readonly resolve: (inputs: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Either.Either<Ticker, UnknownCompany>>>
  /** One company's record. */
  readonly record: (ticker: Ticker) => Option.Option<CompanyRecord>
  /** Every sector's peer statistics. */
  readonly peers: PeerStats
  /** Every company's ticker, in the universe's order, read a page at a time. */
  readonly tickers: Stream.Stream<Ticker>
}

/** Tickers read at a time when the whole universe is streamed. */
const PAGE = 4096

/** Names resolved between two turns of the event loop: a few milliseconds of work, so that a signal is answered at once. */
const RESOLVED_AT_ONCE = 1024

/** One turn of the event loop: timers and signal handlers run before the fiber goes on. */
const eventLoopTurn: Effect.Effect<void> = Effect.async<void>((resume) => {
  const turn = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(turn))
})

/** `resolveOne` over every input, a slice at a time. */
const resolveAll = (resolveOne: (input: string) => Either.Either<Ticker, UnknownCompany>) =>
(inputs: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Either.Either<Ticker, UnknownCompany>>> =>
  inputs.length <= RESOLVED_AT_ONCE
    ? Effect.sync(() => inputs.map(resolveOne))
    : Effect.gen(function*() {
      const resolved: Array<Either.Either<Ticker, UnknownCompany>> = []
      for (let at = 0; at < inputs.length; at += RESOLVED_AT_ONCE) {
        if (at > 0) yield* eventLoopTurn
        for (const input of inputs.slice(at, at + RESOLVED_AT_ONCE)) resolved.push(resolveOne(input))
      }
      return resolved
    })

/** Records kept after they are read: more than the companies a run has in flight (at most 64). */
const RECENT_RECORDS = 256

/**
 * `read`, remembering the last `RECENT_RECORDS` answers: a company's record
 * is asked for by each of its sources within moments (its fundamentals, its
 * emissions, its governance), one row read for the three.
 *
 * @since 0.1.0
 */
export const recentRecords = (read: (ticker: Ticker) => Option.Option<CompanyRecord>) => {
  const recent = new Map<Ticker, Option.Option<CompanyRecord>>()
  return (ticker: Ticker): Option.Option<CompanyRecord> => {
    const known = recent.get(ticker)
    if (known !== undefined) return known
    const record = read(ticker)
    if (recent.size >= RECENT_RECORDS) recent.delete(recent.keys().next().value!)
    recent.set(ticker, record)
    return record
  }
}

/**
 * The company universe as a service: held in memory (`fromRecords`, `layer`) or read from a database (`layerFromDatabase`).
 *
 * @since 0.1.0
 */
export class Universe extends Context.Tag("esg-aggregator/Universe")<Universe, UniverseService>() {
  /**
   * A universe held in memory.
   *
   * @since 0.1.0
   */
  static readonly fromRecords = (records: ReadonlyArray<CompanyRecord>): UniverseService => {
    const byTicker = new Map(records.map((record) => [record.ticker, record]))
    // the directory and the peers are built when first asked for: a simulated source needs neither
    let directory: ReturnType<typeof makeDirectory> | undefined
    let peers: PeerStats | undefined
    return {
      size: records.length,
      resolve: resolveAll((input) => (directory ??= makeDirectory(records)).resolve(input)),
      record: (ticker) => Option.fromNullable(byTicker.get(ticker)),
      get peers() {
        return peers ??= buildPeerStats(records)
      },
      tickers: Stream.fromIterable(records).pipe(Stream.map((record) => record.ticker), Stream.rechunk(PAGE))
    }
  }

  /**
   * A universe of `records` held in memory, as a layer.
   *
   * @since 0.1.0
   */
  static readonly layer = (records: ReadonlyArray<CompanyRecord>): Layer.Layer<Universe> =>
    Layer.sync(Universe, () => Universe.fromRecords(records))

  /**
   * The universe database at `path`, opened on this thread (read-only,
   * closed with the layer). A name resolves in a few index lookups, a record
   * is one; the peers are the small table written with the companies.
   *
   * @since 0.1.0
   */
  static readonly layerFromDatabase = (path: string): Layer.Layer<Universe, UniverseUnavailable> =>
    Layer.scoped(
      Universe,
      Effect.map(
        Effect.acquireRelease(
          // loaded here, not with this module: a library user who never opens a database needs no native SQLite
          Effect.tryPromise({
            try: () => import("./Database.js").then((database) => database.openUniverseDb(path)),
            catch: (cause) => new UniverseUnavailable({ reason: cause instanceof Error ? cause.message : String(cause) })
          }),
          (db) => Effect.sync(() => db.close())
        ),
        (db): UniverseService => ({
          size: db.size(),
          resolve: resolveAll(db.resolve),
          record: recentRecords((ticker) => Option.fromNullable(db.record(ticker))),
          peers: db.peers(),
          tickers: Stream.paginateChunkEffect(0, (after) =>
            Effect.sync(() => {
              const page = db.tickers(after, PAGE)
              return [Chunk.unsafeFromArray(page), page.length < PAGE ? Option.none() : Option.some(after + page.length)] as const
            }))
        })
      )
    )
}

/**
 * Where a part finds its companies: a universe, or records held as one; one of the two must be given.
 *
 * @since 0.1.0
 */
export interface UniverseSource {
  readonly universe?: UniverseService | undefined
  /** Records held in memory, when no `universe` is given. */
  readonly records?: ReadonlyArray<CompanyRecord> | undefined
}

/**
 * The universe `part` was given, else its records. A part given neither is
 * a mistake, not a wish for synthetic data: it fails to build, saying so.
 *
 * @since 0.1.0
 */
export const universeOf = (source: UniverseSource, part: string): UniverseService => {
  if (source.universe !== undefined) return source.universe
  if (source.records !== undefined) return Universe.fromRecords(source.records)
  throw new Error(
    `${part}: no companies to serve: give it \`universe\` or \`records\` (the sample universe is \`sampleUniverse()\`)`
  )
}
