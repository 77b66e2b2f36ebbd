/**
 * The scorer service: turns one company's three sources into a score. The
 * model lives in `ScoreModel`; this service decides where it runs: inline on
 * the calling thread, or on the worker pool (the default for the CLI, so the
 * CPU-heavy Monte Carlo never stalls the event loop).
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer } from "effect"
import type { Score, ScoreInput } from "./Domain.js"
import { ScoringError } from "./Domain.js"
import { DEFAULT_SAMPLES, DEFAULT_SEED, type SimulationOptions } from "./ScoreModel.js"
import { simulate } from "./ScoreSimulation.js"
import { universeOf, type UniverseSource } from "./universe/Universe.js"
import { ScoreCompany } from "./worker/Protocol.js"
import { ScoringWorkers, type WorkerStartError } from "./worker/WorkerPool.js"
import { durationText } from "./internal/DurationText.js"

/**
 * A scorer: `score` turns one company's data into its `Score`, failing with `ScoringError`; `origin` says where it runs.
 *
 * @since 0.1.0
 */
export interface ScoreEngineService {
  /** Where scores are computed, for the report: `main thread` or `worker threads`. */
  readonly origin: string
  readonly score: (input: ScoreInput) => Effect.Effect<Score, ScoringError>
}

/**
 * Far above a default score (about 0.1 s): only a stuck scorer reaches it, and then the run still ends.
 *
 * @since 0.1.0
 */
export const DEFAULT_SCORE_TIMEOUT: Duration.Duration = Duration.seconds(60)

/**
 * The universe (or records) the relative pillar and the industry adjustment rank against (default: the sample universe).
 *
 * @since 0.1.0
 */
export interface InlineOptions extends UniverseSource {
  readonly samples?: number | undefined
  readonly seed?: number | undefined
}

/**
 * The scorer as a service, with its layers: `layerInline` (this thread) and `layerDatabase` (worker threads), and `bounded` to limit a score's time.
 *
 * @since 0.1.0
 */
export class ScoreEngine extends Context.Tag("esg-aggregator/ScoreEngine")<ScoreEngine, ScoreEngineService>() {
  /**
   * Scores on the calling thread, yielding between chunks: for tests, the library and small runs.
   *
   * @since 0.1.0
   */
  static readonly layerInline = (options: InlineOptions = {}): Layer.Layer<ScoreEngine> =>
    Layer.sync(ScoreEngine, () => {
      const peers = universeOf(options, "ScoreEngine.layerInline").peers
      const simulation: SimulationOptions = {
        samples: options.samples ?? DEFAULT_SAMPLES,
        seed: options.seed ?? DEFAULT_SEED
      }
      return ScoreEngine.of({
        origin: "main thread",
        score: (input) =>
          simulate(peers, input, simulation, Effect.yieldNow()).pipe(
            Effect.withSpan("ScoreEngine.score", { attributes: { ticker: input.fundamentals.ticker }, captureStackTrace: false })
          )
      })
    })

  /**
   * Bounds every score of `layer`'s scorer in time: a score that takes longer
   * fails its company with `ScoringError` ("no score within …") instead of
   * holding the run. Where the scorer can get stuck (a worker thread), this
   * is where its bound belongs; a scorer on the calling thread needs none.
   *
   * @since 0.1.0
   */
  static readonly bounded = (timeout: Duration.DurationInput = DEFAULT_SCORE_TIMEOUT) =>
  <E, R>(layer: Layer.Layer<ScoreEngine, E, R>): Layer.Layer<ScoreEngine, E, R> =>
    Layer.effect(
      ScoreEngine,
      Effect.map(ScoreEngine, (inner) =>
        ScoreEngine.of({
          origin: inner.origin,
          score: (input) =>
            inner.score(input).pipe(Effect.timeoutFail({
              duration: timeout,
              onTimeout: () =>
                new ScoringError({ ticker: input.fundamentals.ticker, reason: `no score within ${durationText(timeout)}` })
            }))
        }))
    ).pipe(Layer.provide(layer))

  /**
   * Scores on a pool of worker threads (`workers`, default one a core)
   * started with the layer, each ranking against the universe database at
   * `path` it opens, with `samples` Monte Carlo draws (default 10,000) from
   * `seed`. Bounded in time like every worker scorer. Needs the optional
   * `better-sqlite3`.
   *
   * @since 0.1.0
   */
  static readonly layerDatabase = (path: string, options: {
    readonly workers?: number | undefined
    readonly samples?: number | undefined
    readonly seed?: number | undefined
  } = {}): Layer.Layer<ScoreEngine, WorkerStartError> =>
    layerOnWorkers().pipe(Layer.provide(ScoringWorkers.layer({
      size: options.workers ?? ScoringWorkers.DEFAULT_SIZE,
      dbPath: path,
      samples: options.samples,
      seed: options.seed
    })))
}

/**
 * Scores on the `ScoringWorkers` pool; peers, samples and seed are the
 * pool's (each worker ranks against the database it opened). Interrupting
 * a call interrupts the simulation in its worker. Bounded in time
 * (`DEFAULT_SCORE_TIMEOUT`): a stuck worker fails its company, and the run
 * still ends. For a composition that shares its pools (the command line);
 * `ScoreEngine.layerDatabase` is this with its own.
 *
 * @since 0.1.0
 */
export const layerOnWorkers = (): Layer.Layer<ScoreEngine, never, ScoringWorkers> =>
  ScoreEngine.bounded()(Layer.effect(
  ScoreEngine,
  Effect.map(ScoringWorkers, (pool) =>
    ScoreEngine.of({
      origin: "worker threads",
      score: (input) => {
        const ticker = input.fundamentals.ticker
        const crashed = (error: { readonly message: string }) =>
          Effect.fail(new ScoringError({ ticker, reason: `scoring worker failed: ${error.message}` }))
        return pool.executeEffect(new ScoreCompany({ input })).pipe(
          Effect.catchTags({ WorkerError: crashed, ParseError: crashed, WorkerStartError: crashed }),
          Effect.withSpan("ScoreEngine.score", { attributes: { ticker }, captureStackTrace: false })
        )
      }
    }))
))
