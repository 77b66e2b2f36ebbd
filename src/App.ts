/**
 * The one wiring place: one typed configuration, with the scenario's
 * defaults written once, turned into the application layer. The CLI, the
 * tests, the benchmark and the examples all build their layers here; they
 * swap a source by passing its layer, not by re-wiring.
 *
 * @since 0.2.0
 */
import { Effect, Layer } from "effect"
import { Aggregator } from "./Aggregator.js"
import { ApiGate } from "./ApiGate.js"
import { CompanyRun } from "./CompanyRun.js"
import type { CompanyRecord } from "./Domain.js"
import { Emissions } from "./Emissions.js"
import { Fundamentals } from "./Fundamentals.js"
import { Governance } from "./Governance.js"
import { IndexCache } from "./IndexCache.js"
import type { Latency } from "./internal/Simulated.js"
import { Scenario } from "./Scenario.js"
import { ScoreEngine } from "./ScoreEngine.js"
import { defaultRunConfig, resolveRunConfig, RunDefaults, type RunOptions } from "./RunConfig.js"
import { ScoreStore } from "./ScoreStore.js"
import { DEFAULT_SAMPLES, DEFAULT_SEED } from "./ScoreModel.js"
import { sampleUniverse } from "./universe/SampleUniverse.js"
import { Universe, type UniverseService } from "./universe/Universe.js"

/**
 * Everything an application is configured with. Every field has the scenario's default.
 *
 * @since 0.1.0
 */
export interface AppConfig extends RunOptions {
  /** External API calls in flight at once (one semaphore of this size). */
  readonly permits: number
  /** Latencies of the simulated sources (used only where a source is simulated). */
  readonly latency: {
    readonly fundamentals: Latency
    readonly emissions: Latency
    readonly governance: Latency
  }
  /** Monte Carlo samples and seed of the inline scorer. */
  readonly samples: number
  readonly seed: number
}

/**
 * The scenario's configuration: `defaultRunConfig`, 2 permits, the scenario's latencies, 500,000 samples and the default seed.
 *
 * @since 0.1.0
 */
export const defaultConfig: AppConfig = {
  ...defaultRunConfig,
  permits: Scenario.permits,
  latency: Scenario.latency,
  samples: DEFAULT_SAMPLES,
  seed: DEFAULT_SEED
}

/**
 * Configuration overrides: any field, and any of the latencies.
 *
 * @since 0.1.0
 */
export type ConfigOverrides = Partial<Omit<AppConfig, "latency">> & {
  readonly latency?: Partial<AppConfig["latency"]> | undefined
}

/**
 * What to build the application from; every part has a default.
 *
 * @since 0.1.0
 */
export interface AppParts<E = never, R = never> {
  readonly config?: ConfigOverrides | undefined
  /** The universe the simulated sources serve and the inline scorer ranks against (default: `records`). */
  readonly universe?: UniverseService | undefined
  /** The universe's records, held in memory, when no `universe` is given (default: the sample universe). */
  readonly records?: ReadonlyArray<CompanyRecord> | undefined
  readonly fundamentals?: Layer.Layer<Fundamentals, E, R> | undefined
  readonly emissions?: Layer.Layer<Emissions, E, R> | undefined
  readonly governance?: Layer.Layer<Governance, E, R> | undefined
  readonly scorer?: Layer.Layer<ScoreEngine, E, R> | undefined
  /** The gate (default: a semaphore of `config.permits`); a decorator over `ApiGate.layer(n)` for evidence in tests. */
  readonly gate?: Layer.Layer<ApiGate, E, R> | undefined
  readonly cache?: Layer.Layer<IndexCache, E, R> | undefined
  /** The persistent cache behind the index cache (default: none). */
  readonly store?: Layer.Layer<ScoreStore, E, R> | undefined
}

/**
 * Every service the application provides.
 *
 * @since 0.1.0
 */
export type AppServices =
  | Aggregator
  | CompanyRun
  | ApiGate
  | IndexCache
  | ScoreStore
  | Fundamentals
  | Emissions
  | Governance
  | ScoreEngine

/**
 * The full configuration: `partial` over the defaults.
 *
 * @since 0.1.0
 */
export const configOf = (partial: ConfigOverrides = {}): AppConfig => ({
  ...defaultConfig,
  ...partial,
  latency: { ...defaultConfig.latency, ...partial.latency }
})

/**
 * The application layer. Sources that are not given are simulated in-process over the universe.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Aggregator, App } from "esg-aggregator"
 *
 * const report = Effect.flatMap(Aggregator, (aggregator) => aggregator.run(["Apple", "Tesla"]))
 * // the sample universe's sources, answering at once
 * const instant = { fundamentals: 0, emissions: 0, governance: 0 }
 * export const scored: Promise<number> = Effect.runPromise(
 *   Effect.provide(report, App.layer({ config: { permits: 2, samples: 0, latency: instant } }))
 * ).then((done) => done.summary.scored)
 * ```
 *
 * @since 0.1.0
 */
export const layer = <E = never, R = never>(parts: AppParts<E, R> = {}): Layer.Layer<AppServices, E, R> => {
  const config = configOf(parts.config)
  // the universe (the sample's, chosen here by name, when none is given) is built only if a simulated part needs it, and once
  let held: UniverseService | undefined
  const universe = () => held ??= parts.universe ?? Universe.fromRecords(parts.records ?? sampleUniverse())
  const lazily = <A, E1, R1>(make: () => Layer.Layer<A, E1, R1>) => Layer.unwrapEffect(Effect.sync(make))
  const services = Layer.mergeAll(
    parts.fundamentals ??
      lazily(() => Fundamentals.layerSimulated({ universe: universe(), latency: config.latency.fundamentals })),
    parts.emissions ?? lazily(() => Emissions.layerSimulated({ universe: universe(), latency: config.latency.emissions })),
    parts.governance ?? lazily(() => Governance.layerSimulated({ universe: universe(), latency: config.latency.governance })),
    parts.scorer ?? lazily(() => ScoreEngine.layerInline({ universe: universe(), samples: config.samples, seed: config.seed })),
    parts.gate ?? ApiGate.layer(config.permits),
    parts.cache ?? IndexCache.Default,
    parts.store ?? ScoreStore.none
  )
  return Aggregator.layer.pipe(
    Layer.provide(Layer.succeed(RunDefaults, resolveRunConfig(config, defaultRunConfig))),
    Layer.provideMerge(CompanyRun.layer),
    Layer.provideMerge(services)
  )
}
