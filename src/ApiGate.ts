/**
 * The shared gate in front of every external API call: one semaphore of
 * `permits` (default 2), `withPermits(1)` per call. A call keeps its permit
 * through its retries, backoff included: a permit a failed attempt gave back
 * would go to the next company's first call, starting that company's
 * deadline, while the retry queued behind it and missed its own.
 *
 * An attempt whose company's deadline has passed by the time it may go out
 * is not started: it sends no request, is not counted, and fails with
 * `DeadlinePassed`. `calls` counts the attempts granted a permit: one cut
 * off right after its grant may not have reached its provider.
 *
 * It counts what it let through (calls, in flight, the most in flight at
 * once) and the fastest successful call per source; a fixed amount of
 * state, whatever the number of calls.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Exit, Layer, Ref } from "effect"
import type { Deadline } from "./Deadline.js"
import { DeadlinePassed } from "./Deadline.js"
import type { Source, Ticker } from "./Domain.js"
import { recordCall } from "./Metrics.js"
import { Scenario } from "./Scenario.js"

/** An external source: the sources behind the gate. */
export type ExternalSource = Exclude<Source, "fundamentals">

export interface GateRequest {
  readonly source: ExternalSource
  readonly ticker: Ticker
  /** The company's deadline: the call starts its clock, and is not started once it has passed. */
  readonly deadline: Deadline
}

/** How a call is retried under its permit: given one attempt, the attempts until success or the last failure. */
export type Retry<A, E> = (attempt: Effect.Effect<A, E | DeadlinePassed>) => Effect.Effect<A, E | DeadlinePassed>

export interface GateStats {
  readonly permits: number
  readonly calls: number
  readonly inFlight: number
  readonly maxInFlight: number
}

export interface ApiGateService {
  readonly permits: number
  /**
   * Runs one external call under one permit. `retry`, given, runs the
   * attempt again after a failure while the permit is held (each attempt is
   * one request, checked against the deadline and counted on its own).
   */
  readonly call: <A, E>(
    request: GateRequest,
    effect: Effect.Effect<A, E>,
    retry?: Retry<A, E>
  ) => Effect.Effect<A, E | DeadlinePassed>
  readonly stats: Effect.Effect<GateStats>
  /** The fastest successful call to `source` so far, in milliseconds (0 before the first). */
  readonly fastestMillis: (source: ExternalSource) => Effect.Effect<number>
}

export class ApiGate extends Context.Tag("esg-aggregator/ApiGate")<ApiGate, ApiGateService>() {
  static readonly make = (permits: number): Effect.Effect<ApiGateService> =>
    Effect.gen(function*() {
      const semaphore = yield* Effect.makeSemaphore(permits)
      const counters = yield* Ref.make({
        calls: 0,
        inFlight: 0,
        maxInFlight: 0,
        fastest: { emissions: 0, governance: 0 } as Readonly<Record<ExternalSource, number>>
      })
      const enter = Effect.zipRight(
        Ref.update(counters, (c) => ({
          ...c,
          calls: c.calls + 1,
          inFlight: c.inFlight + 1,
          maxInFlight: Math.max(c.maxInFlight, c.inFlight + 1)
        })),
        Clock.currentTimeMillis
      )
      const leave = (source: ExternalSource, start: number, exit: Exit.Exit<unknown, unknown>) =>
        Effect.flatMap(Clock.currentTimeMillis, (end) =>
          Effect.zipRight(recordCall(source, end - start, Exit.isSuccess(exit)), Ref.update(counters, (c) => {
            const took = end - start
            const seen = c.fastest[source]
            const faster = Exit.isSuccess(exit) && (seen === 0 || took < seen)
            return { ...c, inFlight: c.inFlight - 1, fastest: faster ? { ...c.fastest, [source]: took } : c.fastest }
          })))
      const passed = new DeadlinePassed()

      const call = <A, E>(
        request: GateRequest,
        effect: Effect.Effect<A, E>,
        retry?: Retry<A, E>
      ): Effect.Effect<A, E | DeadlinePassed> => {
        const attempt = Effect.flatMap(request.deadline.begin, (open): Effect.Effect<A, E | DeadlinePassed> =>
          open
            ? Effect.acquireUseRelease(enter, () => effect, (start, exit) => leave(request.source, start, exit))
            : Effect.fail(passed))
        return semaphore.withPermits(1)(retry === undefined ? attempt : retry(attempt))
      }

      return ApiGate.of({
        permits,
        call,
        stats: Effect.map(Ref.get(counters), (c) => ({ permits, calls: c.calls, inFlight: c.inFlight, maxInFlight: c.maxInFlight })),
        fastestMillis: (source) => Effect.map(Ref.get(counters), (c) => c.fastest[source])
      })
    })

  static readonly layer = (permits: number): Layer.Layer<ApiGate> => Layer.effect(ApiGate, ApiGate.make(permits))

  /** The mission's limit: two external calls in flight. */
  static readonly Default: Layer.Layer<ApiGate> = ApiGate.layer(Scenario.permits)
}
