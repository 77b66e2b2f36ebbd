/**
 * The shared gate in front of every external API call: one semaphore of
 * `permits` (default 2), one permit per call, a team's shared permits
 * optionally behind it. A call keeps its permit through its retries,
 * backoff included: a permit given back between attempts would start the
 * next company's deadline while the retry queued behind it.
 *
 * The design: docs/design.md#srcapigatets
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Exit, Layer, Option, Ref, Schema } from "effect"
import type { Deadline } from "./Deadline.js"
import { DeadlinePassed } from "./Deadline.js"
import type { ExternalSource, Ticker } from "./Domain.js"
import { recordCall } from "./Metrics.js"
import { Scenario } from "./Scenario.js"

/**
 * The company a call is for, on its current turn: one value, which also
 * names the company to a shared gate.
 *
 * @since 0.1.0
 */
export interface GateCompany {
  readonly ticker: Ticker
  /** The deadline of the company's turn: a call starts its clock, and is not started once it has passed. */
  readonly deadline: Deadline
}

/**
 * One external call as the gate sees it: its source, its company's turn, and when it may go out (`continuation`, `ready`, `onlyIfItCanFinish`).
 *
 * @since 0.1.0
 */
export interface GateRequest {
  readonly source: ExternalSource
  readonly company: GateCompany
  /**
   * An earlier call of the same company holds its permit: a shared gate
   * lets this call go before companies that hold none. Default: whether the
   * company's deadline has started.
   */
  readonly continuation?: boolean | undefined
  /** Awaited once the permit is granted, before the first attempt goes out (and starts the deadline). */
  readonly ready?: Effect.Effect<void> | undefined
  /**
   * An attempt that could not finish before the deadline even as fast as
   * its source has ever answered is not started either: for a company that
   * can wait its turn again rather than spend a request that cannot arrive
   * in time.
   */
  readonly onlyIfItCanFinish?: boolean | undefined
}

/**
 * How a call is retried under its permit: given one attempt, the attempts until success or the last failure.
 *
 * @since 0.1.0
 */
export type Retry<A, E> = (attempt: Effect.Effect<A, E | DeadlinePassed>) => Effect.Effect<A, E | DeadlinePassed>

/**
 * The gate's counts: its permits, the attempts granted one, the calls in flight now and at most at once, the longest wait for a permit.
 *
 * @since 0.1.0
 */
export interface GateStats {
  readonly permits: number
  readonly calls: number
  readonly inFlight: number
  readonly maxInFlight: number
  /** The longest a call waited for its permit (its local one, then the team's), in milliseconds. */
  readonly longestWaitMs: number
}

/**
 * The origin of a gate whose permits are this process's alone.
 *
 * @since 0.1.0
 */
export const LOCAL_PERMITS = "this process"

/**
 * How many answers of a source make its slowest one what it normally takes (`normalMillis`).
 *
 * @since 0.1.0
 */
export const NORMAL_AFTER = 3

/**
 * The shared permits cannot be granted any more (their database is unreachable): the reason says why.
 *
 * @since 0.1.0
 */
export class GateUnavailable extends Schema.TaggedError<GateUnavailable>()("GateUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `API gate unavailable: ${this.reason}`
  }
}

/**
 * Permits shared beyond this process: a call holds one of them, after its local permit, while it runs.
 *
 * @since 0.1.0
 */
export interface SharedPermits {
  /** Where they are held, for the report (no password). */
  readonly origin: string
  /**
   * Runs `effect` holding one shared permit, for a call of `company` (the
   * object names the company's turn). `continuation`: the company's deadline
   * has started (an earlier call of it was granted), and the call goes
   * before the companies that have not started. If the permits can no
   * longer be granted, it never runs `effect`, and `lost` completes.
   */
  readonly withPermit: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    call: { readonly company: GateCompany; readonly continuation: boolean }
  ) => Effect.Effect<A, E, R>
  /** Completes with the reason once the permits can no longer be granted. */
  readonly lost: Effect.Effect<GateUnavailable>
}

/**
 * The gate's operations: `call` runs an external call under a permit; the others report its counts, its sources' speeds, the oldest call, a lost team gate.
 *
 * @since 0.1.0
 */
export interface ApiGateService {
  readonly permits: number
  /** Whose permits: `this process`, or where a team's are held. */
  readonly origin: string
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
  /**
   * What `source` normally takes at most: its slowest successful call so far,
   * in milliseconds, once it has answered `NORMAL_AFTER` times (none before).
   */
  readonly normalMillis: (source: ExternalSource) => Effect.Effect<Option.Option<number>>
  /** Completes with the reason once the gate can no longer grant permits (its shared permits lost); never otherwise. */
  readonly lost: Effect.Effect<GateUnavailable>
  /** The call in flight the longest, if any: what a run is waiting on. */
  readonly oldestCall: Effect.Effect<Option.Option<CallInFlight>>
}

/**
 * A call in flight: its source, its company, and when it went out (epoch milliseconds).
 *
 * @since 0.1.0
 */
export interface CallInFlight {
  readonly source: ExternalSource
  readonly ticker: string
  readonly sinceMs: number
}

/**
 * The gate in front of every external API call, as a service: `make`, `layer(permits)`, and `Default` with the mission's 2 permits.
 *
 * @since 0.1.0
 */
export class ApiGate extends Context.Tag("esg-aggregator/ApiGate")<ApiGate, ApiGateService>() {
  /**
   * Builds a gate of `permits` permits in this process; with `shared`, each call also holds one of a team's permits, after its local one.
   *
   * @since 0.1.0
   */
  static readonly make = (permits: number, shared?: SharedPermits): Effect.Effect<ApiGateService> =>
    Effect.gen(function*() {
      const semaphore = yield* Effect.makeSemaphore(permits)
      const counters = yield* Ref.make({
        calls: 0,
        inFlight: 0,
        maxInFlight: 0,
        longestWaitMs: 0,
        fastest: { emissions: 0, governance: 0 } as Readonly<Record<ExternalSource, number>>,
        slowest: { emissions: 0, governance: 0 } as Readonly<Record<ExternalSource, number>>,
        answered: { emissions: 0, governance: 0 } as Readonly<Record<ExternalSource, number>>
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
            if (!Exit.isSuccess(exit)) return { ...c, inFlight: c.inFlight - 1 }
            return {
              ...c,
              inFlight: c.inFlight - 1,
              fastest: faster ? { ...c.fastest, [source]: took } : c.fastest,
              slowest: took > c.slowest[source] ? { ...c.slowest, [source]: took } : c.slowest,
              answered: { ...c.answered, [source]: c.answered[source] + 1 }
            }
          })))
      const passed = new DeadlinePassed()
      // the calls in flight now, for `oldestCall`
      const calls = new Set<CallInFlight>()

      const call = <A, E>(
        request: GateRequest,
        effect: Effect.Effect<A, E>,
        retry?: Retry<A, E>
      ): Effect.Effect<A, E | DeadlinePassed> => {
        const go = Effect.acquireUseRelease(
          Effect.map(enter, (start) => {
            const inFlight: CallInFlight = { source: request.source, ticker: request.company.ticker, sinceMs: start }
            calls.add(inFlight)
            return inFlight
          }),
          () => effect,
          (inFlight, exit) => Effect.suspend(() => {
            calls.delete(inFlight)
            return leave(request.source, inFlight.sinceMs, exit)
          })
        )
        const attempt = Effect.flatMap(request.company.deadline.begin, (open): Effect.Effect<A, E | DeadlinePassed> =>
          !open
            ? Effect.fail(passed)
            : request.onlyIfItCanFinish === true
            ? Effect.flatMap(
              Effect.zip(request.company.deadline.remainingMillis, Ref.get(counters)),
              ([left, c]): Effect.Effect<A, E | DeadlinePassed> => (left < c.fastest[request.source] ? Effect.fail(passed) : go)
            )
            : go)
        const attempts = retry === undefined ? attempt : retry(attempt)
        return Effect.flatMap(Clock.currentTimeMillis, (asked) => {
          const granted = Effect.zipRight(
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Ref.update(counters, (c) => (now - asked > c.longestWaitMs ? { ...c, longestWaitMs: now - asked } : c))),
            request.ready === undefined ? attempts : Effect.zipRight(request.ready, attempts)
          )
          return semaphore.withPermits(1)(
            shared === undefined
              ? granted
              : Effect.flatMap(
                request.continuation === undefined ? request.company.deadline.isStarted : Effect.succeed(request.continuation),
                (continuation) => shared.withPermit(granted, { company: request.company, continuation })
              )
          )
        })
      }

      return ApiGate.of({
        permits,
        origin: shared?.origin ?? LOCAL_PERMITS,
        call,
        stats: Effect.map(Ref.get(counters), (c) => ({
          permits,
          calls: c.calls,
          inFlight: c.inFlight,
          maxInFlight: c.maxInFlight,
          longestWaitMs: c.longestWaitMs
        })),
        fastestMillis: (source) => Effect.map(Ref.get(counters), (c) => c.fastest[source]),
        normalMillis: (source) =>
          Effect.map(Ref.get(counters), (c) => (c.answered[source] >= NORMAL_AFTER ? Option.some(c.slowest[source]) : Option.none())),
        lost: shared?.lost ?? Effect.never,
        oldestCall: Effect.sync(() => {
          let oldest: CallInFlight | undefined
          for (const call of calls) if (oldest === undefined || call.sinceMs < oldest.sinceMs) oldest = call
          return Option.fromNullable(oldest)
        })
      })
    })

  /**
   * A gate of `permits` permits, this process's alone.
   *
   * @since 0.1.0
   */
  static readonly layer = (permits: number): Layer.Layer<ApiGate> => Layer.effect(ApiGate, ApiGate.make(permits))

  /**
   * The mission's limit: two external calls in flight.
   *
   * @since 0.1.0
   */
  static readonly Default: Layer.Layer<ApiGate> = ApiGate.layer(Scenario.permits)
}
