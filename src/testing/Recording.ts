/**
 * Decorators that record what a pipeline did, in virtual time, into
 * `Evidence`: the gate (each call's request, permit and release), the
 * fundamentals lookup, and an external source (each arrival, with faults
 * injected per ticker and attempt). Each wraps any layer of its service, so
 * a user's own source is recorded the same way as a simulated one.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Layer, Ref } from "effect"
import { ApiGate } from "../ApiGate.js"
import type { ExternalSource, FundamentalsData, SourceError, Ticker } from "../Domain.js"
import { Emissions } from "../Emissions.js"
import { Fundamentals } from "../Fundamentals.js"
import { Governance } from "../Governance.js"
import { type Event, Evidence } from "./Evidence.js"

/**
 * A provider fault for the `attempt`-th request (1-based) of a ticker: it answers after `afterMs` with that
 * error, never answers (`hang`), or answers `slowerMs` later than usual; `undefined` for none.
 *
 * @since 0.1.0
 */
export type Fault = (
  ticker: Ticker,
  attempt: number
) =>
  | { readonly afterMs: number; readonly error: SourceError }
  | { readonly hang: true }
  | { readonly slowerMs: number }
  | undefined

/**
 * The gate, recording when each call asked for its permit, held it, went out under it and released it, or withdrew.
 *
 * @since 0.1.0
 */
export const recordGate = <E, R>(gate: Layer.Layer<ApiGate, E, R>): Layer.Layer<ApiGate, E, R | Evidence> =>
  Layer.effect(
    ApiGate,
    Effect.gen(function*() {
      const inner = yield* ApiGate
      const evidence = yield* Evidence
      return ApiGate.of({
        ...inner,
        call: (request, effect, retry) =>
          Effect.gen(function*() {
            const record = (kind: Event["kind"]) => evidence.record(request.company.ticker, request.source, kind)
            const granted = yield* Ref.make(false)
            yield* record("asked")
            // each attempt that goes out is a grant (a retry goes out under the permit its call holds)
            const grant = Effect.zipRight(Ref.set(granted, true), record("granted"))
            const held = record("held")
            const ready = request.ready === undefined ? held : Effect.zipRight(held, request.ready)
            return yield* inner.call({ ...request, ready }, Effect.zipRight(grant, effect), retry).pipe(
              Effect.onExit(() => Effect.flatMap(Ref.get(granted), (went) => record(went ? "released" : "withdrawn")))
            )
          })
      })
    })
  ).pipe(Layer.provide(gate))

/**
 * The fundamentals, each lookup recorded when it goes out and when its data arrives, whether fetched or reserved.
 *
 * @since 0.1.0
 */
export const recordFundamentals = <E, R>(
  fundamentals: Layer.Layer<Fundamentals, E, R>
): Layer.Layer<Fundamentals, E, R | Evidence> =>
  Layer.effect(
    Fundamentals,
    Effect.gen(function*() {
      const inner = yield* Fundamentals
      const evidence = yield* Evidence
      const recorded = <E1>(ticker: Ticker, lookup: Effect.Effect<FundamentalsData, E1>) =>
        evidence.record(ticker, "fundamentals", "started").pipe(
          Effect.zipRight(lookup),
          Effect.tap(() => evidence.record(ticker, "fundamentals", "arrived"))
        )
      return Fundamentals.of({
        ...inner,
        fetch: (ticker) => recorded(ticker, inner.fetch(ticker)),
        reserve: (ticker) => Effect.map(inner.reserve(ticker), (lookup) => recorded(ticker, lookup))
      })
    })
  ).pipe(Layer.provide(fundamentals))

/** A fetch with `fault`'s faults injected, each recorded. */
const withFaults = (source: ExternalSource, fault: Fault | undefined) =>
<A>(fetch: (ticker: Ticker) => Effect.Effect<A, SourceError>) =>
  Effect.gen(function*() {
    const evidence = yield* Evidence
    const attempts = yield* Ref.make(new Map<Ticker, number>())
    return (ticker: Ticker): Effect.Effect<A, SourceError> =>
      Effect.flatMap(Ref.modify(attempts, (m) => {
        const n = (m.get(ticker) ?? 0) + 1
        return [n, new Map(m).set(ticker, n)] as const
      }), (attempt) => {
        const injected = fault?.(ticker, attempt)
        if (injected === undefined) return fetch(ticker)
        // slower than usual, within what the provider normally takes: no fault
        if ("slowerMs" in injected) return Effect.zipRight(Effect.sleep(Duration.millis(injected.slowerMs)), fetch(ticker))
        return Effect.zipRight(
          evidence.record(ticker, source, "faulted"),
          "hang" in injected
            ? Effect.never
            : Effect.zipRight(Effect.sleep(Duration.millis(injected.afterMs)), Effect.fail(injected.error))
        )
      })
  })

/**
 * How an external source is decorated: faults injected per ticker and attempt, and how long an interrupted
 * request keeps its permit (as an HTTP provider does while its request is aborted; default 0).
 *
 * @since 0.1.0
 */
export interface RecordOptions {
  readonly fault?: Fault | undefined
  readonly abortGraceMs?: number | undefined
}

const recordExternal = (source: ExternalSource, options: RecordOptions) =>
<A>(fetch: (ticker: Ticker) => Effect.Effect<A, SourceError>) =>
  Effect.gen(function*() {
    const evidence = yield* Evidence
    const faulty = yield* withFaults(source, options.fault)(fetch)
    const grace = options.abortGraceMs ?? 0
    const aborting = grace === 0
      ? faulty
      : (ticker: Ticker) => Effect.onInterrupt(faulty(ticker), () => Effect.sleep(Duration.millis(grace)))
    return (ticker: Ticker) => Effect.tap(aborting(ticker), () => evidence.record(ticker, source, "arrived"))
  })

/**
 * The emissions source, its faults injected and each arrival recorded.
 *
 * @since 0.1.0
 */
export const recordEmissions = <E, R>(
  emissions: Layer.Layer<Emissions, E, R>,
  options: RecordOptions = {}
): Layer.Layer<Emissions, E, R | Evidence> =>
  Layer.effect(
    Emissions,
    Effect.gen(function*() {
      const inner = yield* Emissions
      return Emissions.of({ ...inner, fetch: yield* recordExternal("emissions", options)(inner.fetch) })
    })
  ).pipe(Layer.provide(emissions))

/**
 * The governance source, its faults injected and each arrival recorded.
 *
 * @since 0.1.0
 */
export const recordGovernance = <E, R>(
  governance: Layer.Layer<Governance, E, R>,
  options: RecordOptions = {}
): Layer.Layer<Governance, E, R | Evidence> =>
  Layer.effect(
    Governance,
    Effect.gen(function*() {
      const inner = yield* Governance
      return Governance.of({ ...inner, fetch: yield* recordExternal("governance", options)(inner.fetch) })
    })
  ).pipe(Layer.provide(governance))
