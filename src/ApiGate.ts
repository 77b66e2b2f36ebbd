/**
 * The shared gate in front of every external API call: one semaphore of
 * `permits` (default 2), one permit per call. It also keeps the evidence that
 * the limit held: calls made, calls in flight, the maximum in flight and the
 * order in which permits were granted.
 *
 * @since 0.1.0
 */
import { Chunk, Clock, Context, Effect, Layer, Ref } from "effect"
import type { Source, Ticker } from "./Domain.js"

/** An external source: the sources behind the gate. */
export type ExternalSource = Exclude<Source, "fundamentals">

/** One permit grant, in virtual or wall-clock milliseconds. */
export interface Grant {
  readonly source: ExternalSource
  readonly ticker: Ticker
  readonly at: number
}

export interface GateStats {
  readonly permits: number
  readonly calls: number
  readonly inFlight: number
  readonly maxInFlight: number
}

export interface ApiGateService {
  readonly permits: number
  /**
   * Runs one external call under one permit. `onGranted` runs as soon as the
   * permit is held, before the call starts.
   */
  readonly call: <A, E>(
    request: { readonly source: ExternalSource; readonly ticker: Ticker },
    effect: Effect.Effect<A, E>,
    onGranted?: Effect.Effect<void>
  ) => Effect.Effect<A, E>
  readonly stats: Effect.Effect<GateStats>
  /** Every grant so far, in grant order. */
  readonly grants: Effect.Effect<ReadonlyArray<Grant>>
}

export class ApiGate extends Context.Tag("esg-aggregator/ApiGate")<ApiGate, ApiGateService>() {
  static readonly make = (permits: number): Effect.Effect<ApiGateService> =>
    Effect.gen(function*() {
      const semaphore = yield* Effect.makeSemaphore(permits)
      const counters = yield* Ref.make({ calls: 0, inFlight: 0, maxInFlight: 0 })
      const grantLog = yield* Ref.make(Chunk.empty<Grant>())

      const enter = (request: { readonly source: ExternalSource; readonly ticker: Ticker }) =>
        Effect.gen(function*() {
          const at = yield* Clock.currentTimeMillis
          yield* Ref.update(counters, (c) => ({
            calls: c.calls + 1,
            inFlight: c.inFlight + 1,
            maxInFlight: Math.max(c.maxInFlight, c.inFlight + 1)
          }))
          yield* Ref.update(grantLog, Chunk.append<Grant>({ source: request.source, ticker: request.ticker, at }))
        })
      const leave = Ref.update(counters, (c) => ({ ...c, inFlight: c.inFlight - 1 }))

      const call: ApiGateService["call"] = (request, effect, onGranted) =>
        semaphore.withPermits(1)(
          Effect.acquireUseRelease(
            Effect.andThen(enter(request), onGranted ?? Effect.void),
            () => effect,
            () => leave
          )
        ).pipe(Effect.withSpan("ApiGate.call", { attributes: { source: request.source, ticker: request.ticker } }))

      return ApiGate.of({
        permits,
        call,
        stats: Effect.map(Ref.get(counters), (c) => ({ permits, ...c })),
        grants: Effect.map(Ref.get(grantLog), Chunk.toReadonlyArray)
      })
    })

  static readonly layer = (permits: number): Layer.Layer<ApiGate> => Layer.effect(ApiGate, ApiGate.make(permits))

  /** The mission's limit: two external calls in flight. */
  static readonly Default: Layer.Layer<ApiGate> = ApiGate.layer(2)
}
