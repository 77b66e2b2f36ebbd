/**
 * The application for a test in virtual time: `App.layer` over simulated
 * sources at set latencies (or a user's own sources), every source and the
 * gate recorded into `Evidence`, faults injected where asked; and a log
 * capture that keeps each entry with its virtual time.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Logger } from "effect"
import * as App from "../App.js"
import { ApiGate } from "../ApiGate.js"
import type { CompanyRecord } from "../Domain.js"
import { Emissions } from "../Emissions.js"
import { Fundamentals } from "../Fundamentals.js"
import { Governance } from "../Governance.js"
import type { Latency } from "../internal/Simulated.js"
import { Scenario } from "../Scenario.js"
import type { ScoreEngine } from "../ScoreEngine.js"
import type { ScoreStore } from "../ScoreStore.js"
import { Universe } from "../universe/Universe.js"
import { sampleUniverse } from "../universe/SampleUniverse.js"
import { Evidence } from "./Evidence.js"
import { type Fault, recordEmissions, recordFundamentals, recordGate, recordGovernance } from "./Recording.js"

/**
 * What a test's application is built from; every part has a default (the scenario's latencies and permits, the
 * sample universe, no faults, the point score only).
 *
 * @since 0.1.0
 */
export interface TestAppOptions {
  /** External API calls in flight at once (default: the scenario's 2). */
  readonly permits?: number | undefined
  /** Latencies of the simulated sources (default: the scenario's 0.8 s, 1.2 s and 1.0 s). */
  readonly latency?: {
    readonly fundamentals?: Latency | undefined
    readonly emissions?: Latency | undefined
    readonly governance?: Latency | undefined
  } | undefined
  /** The universe the simulated sources serve and the score ranks against (default: the sample universe). */
  readonly records?: ReadonlyArray<CompanyRecord> | undefined
  /** Monte Carlo samples per company (default 0: the point score only, to keep virtual-time tests fast). */
  readonly samples?: number | undefined
  /** A source of the user's own in place of a simulated one: it is recorded, and faulted, the same way. */
  readonly sources?: {
    readonly fundamentals?: Layer.Layer<Fundamentals> | undefined
    readonly emissions?: Layer.Layer<Emissions> | undefined
    readonly governance?: Layer.Layer<Governance> | undefined
  } | undefined
  /** Faults injected into the external sources, per ticker and attempt. */
  readonly faults?: { readonly emissions?: Fault | undefined; readonly governance?: Fault | undefined } | undefined
  /** How long an interrupted provider request keeps its permit (default 0; the HTTP providers keep 50 ms). */
  readonly abortGraceMs?: number | undefined
  /** Another scorer in place of the inline one. */
  readonly scorer?: Layer.Layer<ScoreEngine> | undefined
  /** A persistent store behind the index cache (default: none). */
  readonly store?: Layer.Layer<ScoreStore> | undefined
}

/**
 * The application with its evidence: run it under `TestClock`, then read `Evidence`.
 *
 * @example
 * ```ts
 * import { Effect, Fiber, TestClock, TestContext } from "effect"
 * import { Aggregator } from "esg-aggregator"
 * import { Evidence, makespan, testApp } from "esg-aggregator/testing"
 *
 * const seed = Effect.gen(function*() {
 *   const aggregator = yield* Aggregator
 *   const run = yield* Effect.fork(aggregator.run(["Apple", "Microsoft", "Meta", "Amazon", "Tesla"]))
 *   yield* TestClock.adjust("10 seconds")
 *   yield* Fiber.join(run)
 *   return makespan(yield* Effect.flatMap(Evidence, (evidence) => evidence.events)) // 5600
 * })
 * export const ms: Promise<number> = Effect.runPromise(seed.pipe(Effect.provide(testApp()), Effect.provide(TestContext.TestContext)))
 * ```
 *
 * @since 0.1.0
 */
export const testApp = (options: TestAppOptions = {}): Layer.Layer<App.AppServices | Evidence> => {
  const records = options.records ?? sampleUniverse()
  const universe = Universe.fromRecords(records)
  const latency = { ...Scenario.latency, ...definedOf(options.latency ?? {}) }
  const permits = options.permits ?? Scenario.permits
  const sources = options.sources ?? {}
  const record = { abortGraceMs: options.abortGraceMs }
  return App.layer({
    config: { permits, latency, samples: options.samples ?? 0 },
    universe,
    fundamentals: recordFundamentals(
      sources.fundamentals ?? Fundamentals.layerSimulated({ universe, latency: latency.fundamentals })
    ),
    emissions: recordEmissions(
      sources.emissions ?? Emissions.layerSimulated({ universe, latency: latency.emissions }),
      { ...record, fault: options.faults?.emissions }
    ),
    governance: recordGovernance(
      sources.governance ?? Governance.layerSimulated({ universe, latency: latency.governance }),
      { ...record, fault: options.faults?.governance }
    ),
    scorer: options.scorer,
    store: options.store,
    gate: recordGate(ApiGate.layer(permits))
  }).pipe(Layer.provideMerge(Evidence.Default))
}

const definedOf = <A extends object>(partial: A): { [K in keyof A]: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as never

/**
 * One log entry, with the (virtual) time it was logged at.
 *
 * @since 0.1.0
 */
export interface CapturedLog {
  readonly message: string
  readonly level: string
  readonly at: number
  readonly annotations: Record<string, unknown>
}

/**
 * A logger that keeps every entry with its (virtual) time: provide `layer`, read `entries`.
 *
 * @since 0.1.0
 */
export const makeLogCapture = Effect.sync(() => {
  // a logger is a synchronous callback; the array is owned by this one capture
  const entries: Array<CapturedLog> = []
  const logger = Logger.make<unknown, void>(({ annotations, date, logLevel, message }) => {
    entries.push({
      message: Array.isArray(message) ? message.map(String).join(" ") : String(message),
      level: logLevel.label,
      at: date.getTime(),
      annotations: Object.fromEntries(annotations)
    })
  })
  return {
    layer: Logger.replace(Logger.defaultLogger, logger),
    entries: Effect.sync(() => [...entries])
  } as const
})
