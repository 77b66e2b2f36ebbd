/**
 * One company, start to finish: its data phase under its deadline, its
 * score, its cache write (the index cache, and the persistent store behind it).
 * A fault stays with its company: one that misses its data through a
 * neighbour's fault takes another turn under `fifo`, first in line, with a
 * fresh deadline.
 *
 * The design: docs/design.md#srccompanyrunts
 *
 * @since 0.2.0
 */
import { Cause, Clock, Context, Data, Deferred, Duration, Effect, Either, Exit, Fiber, FiberId, Layer, LogLevel, Metric, Option, Scope } from "effect"
import type { Admitted, Turn } from "./Admission.js"
import { ApiGate, type GateCompany, type GateRequest } from "./ApiGate.js"
import type { Deadline, DeadlinePassed } from "./Deadline.js"
import {
  DATA_INCOMPLETE,
  DataIncomplete,
  type EmissionData,
  type ExternalSource,
  externalSources,
  type FundamentalsData,
  type GovernanceRating,
  InternalError,
  ProviderFailed,
  ProviderRefused,
  Scored,
  ScoreInput,
  ScoringFailed,
  Skipped,
  type SkipReason,
  type Source,
  type SourceError,
  sources
} from "./Domain.js"
import { Emissions } from "./Emissions.js"
import { Fundamentals } from "./Fundamentals.js"
import { Governance } from "./Governance.js"
import { IndexCache } from "./IndexCache.js"
import type { Job } from "./Intake.js"
import { timeouts, turnsAgain } from "./Metrics.js"
import { type CallError, type RetryPolicy, withRetries } from "./RetryPolicy.js"
import { ScoreEngine } from "./ScoreEngine.js"
import { ScoreStore } from "./ScoreStore.js"
import { durationText } from "./internal/DurationText.js"

/**
 * What admission gave the company, and its retry policy.
 *
 * @since 0.1.0
 */
export interface CompanyRunOptions {
  readonly admitted: Admitted
  readonly retry: RetryPolicy
}

/**
 * How much longer than what its source normally takes a request may go
 * unanswered before that is its own company's fault: a quarter more, and
 * 50 ms for this process's own stalls (a collection, a busy machine), which
 * at short latencies are as long as a call.
 *
 * @since 0.1.0
 */
export const OWN_FAULT_MARGIN = { factor: 1.25, millis: 50 } as const

interface Data {
  readonly fundamentals: FundamentalsData
  readonly emissions: EmissionData
  readonly governance: GovernanceRating
}

/** The company missed its turn through no fault of its own: a call left unsent could not have finished in time. */
class TurnMissed extends Data.TaggedError("TurnMissed") {}

/** A turn missed through no fault of the company's own: what was missing, and why. */
interface NotItsFault {
  readonly _tag: "NotItsFault"
  readonly detail: string
}

/**
 * Runs one admitted company to its outcome: its data under its deadline, its score, its cache writes; `Scored` or `Skipped`.
 *
 * @since 0.1.0
 */
export interface CompanyRunService {
  /** Fails only when a provider refuses the credentials: then no company can be served. */
  readonly run: (job: Job, options: CompanyRunOptions) => Effect.Effect<Scored | Skipped, ProviderRefused>
}

/**
 * The one-company pipeline as a service, built by `CompanyRun.layer`.
 *
 * @since 0.1.0
 */
export class CompanyRun extends Context.Tag("esg-aggregator/CompanyRun")<CompanyRun, CompanyRunService>() {
  /**
   * Builds `run` from the three sources, the scorer, the index cache, the score store and the API gate.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<
    CompanyRun,
    never,
    Fundamentals | Emissions | Governance | ScoreEngine | IndexCache | ScoreStore | ApiGate
  > = Layer.effect(
    CompanyRun,
    Effect.gen(function*() {
      const fundamentals = yield* Fundamentals
      const emissions = yield* Emissions
      const governance = yield* Governance
      const scorer = yield* ScoreEngine
      const cache = yield* IndexCache
      const store = yield* ScoreStore
      const gate = yield* ApiGate

      /** One external call through the gate, retried under its permit on transient failures within the deadline. */
      const external = <A>(
        request: GateRequest,
        fetch: Effect.Effect<A, SourceError>,
        retry: RetryPolicy
      ): Effect.Effect<A, CallError> =>
        gate.call(request, fetch, (attempt) =>
          withRetries(attempt, retry, {
            deadline: request.company.deadline,
            // a retry needs at least as long as the fastest request this source has answered
            minDurationMs: gate.fastestMillis(request.source)
          }))

      const skip = (job: Job, reason: SkipReason, missing: ReadonlyArray<Source>, detail?: string) =>
        new Skipped({ input: job.input, ticker: job.ticker, reason, missing, ...(detail === undefined ? {} : { detail }) })

      /**
       * Whether the company's data is late by its own fault: one of its
       * requests failed, or one has had, by now or by its deadline, the time
       * its source normally takes and `OWN_FAULT_MARGIN` more (its whole deadline
       * before the source is known) without an answer.
       */
      const ownFault = (phase: DataPhase, deadline: Deadline) =>
        Effect.gen(function*() {
          const until = Math.min(yield* Clock.currentTimeMillis, yield* deadline.endMillis)
          for (const source of externalSources) {
            if (phase.faulted(source)) return true
            const since = phase.outSince(source)
            if (since === undefined) continue
            const needs = Option.match(yield* gate.normalMillis(source), {
              onNone: () => Duration.toMillis(deadline.timeout),
              onSome: (normal) => normal * OWN_FAULT_MARGIN.factor + OWN_FAULT_MARGIN.millis
            })
            if (until - since >= needs) return true
          }
          return false
        })

      const dataPhase = (job: Job, turn: Turn, options: CompanyRunOptions) =>
        Effect.gen(function*() {
          const { deadline } = turn
          const { letNextIn } = options.admitted
          const { ticker } = job
          const mayTakeAnother = Option.isSome(turn.next)
          // once its first permit is granted, and before that request goes out and starts the clock, the company
          // holds a thread for its lookup: its clock never runs while this process starts or finds one (under
          // eager, whose clock runs already, it holds one at once)
          const lookup = yield* Deferred.make<Effect.Effect<FundamentalsData, SourceError>, SourceError>()
          const reserveLookup = Effect.flatMap(
            Effect.either(Scope.extend(fundamentals.reserve(ticker), yield* Effect.scope)),
            (reserved) => Deferred.complete(lookup, reserved)
          )
          const runningAlready = yield* deadline.isStarted
          if (runningAlready) yield* reserveLookup
          const company: GateCompany = { ticker, deadline }
          const phase = yield* DataPhase.make
          // the emissions call's permit is granted: the governance call may ask for its own
          const granted = yield* Effect.makeLatch(false)
          // on a turn taken again, the emissions call holds its permit, unsent, until the governance call holds one
          const allHeld = turn.holdAll && gate.permits > 1 ? yield* Effect.makeLatch(false) : undefined

          const call = <A>(source: ExternalSource, fetch: Effect.Effect<A, SourceError>, ready: Effect.Effect<void>) => {
            const request: GateRequest = {
              source,
              company,
              ready,
              // the governance call goes out after the company's first permit: a shared gate lets it go first
              ...(source === "governance" ? { continuation: true } : {}),
              onlyIfItCanFinish: mayTakeAnother
            }
            // a call that could not have finished in time was not sent: through no fault of its own, the company
            // takes its next turn now; at fault, it asks for nothing more and waits for its deadline
            return Effect.catchTag(
              external(request, phase.attempt(source, fetch), options.retry),
              "DeadlinePassed",
              (passed): Effect.Effect<never, DeadlinePassed | TurnMissed> =>
                !mayTakeAnother
                  ? Effect.fail(passed)
                  : Effect.flatMap(ownFault(phase, deadline), (own) =>
                    own ? Effect.zipRight(letNextIn, Effect.never) : Effect.fail(new TurnMissed()))
            )
          }

          const emissionsCall = yield* phase.fork(
            "emissions",
            call(
              "emissions",
              emissions.fetch(ticker),
              Effect.zipRight(
                runningAlready ? Effect.void : reserveLookup,
                allHeld === undefined ? granted.open : Effect.zipRight(granted.open, allHeld.await)
              )
            )
          )
          // the second permit is asked for once the first is held (under eager, whose deadline runs, at once):
          // at most one company ever waits on the gate
          if (!runningAlready) yield* granted.await
          const governanceCall = yield* phase.fork(
            "governance",
            call("governance", Effect.zipRight(letNextIn, governance.fetch(ticker)), allHeld === undefined ? Effect.void : allHeld.open)
          )
          yield* deadline.started
          const fundamentalsCall = yield* phase.fork("fundamentals", Effect.flatten(Deferred.await(lookup)))
          // the first failure ends the phase at once; the calls are interrupted below, releasing their permits
          const result = yield* phase.complete.pipe(Effect.timeout(yield* deadline.remainingMillis), Effect.either)
          if (Either.isRight(result)) return Either.right(result.right)

          const error = result.left
          const late = error._tag !== "SourceError"
          // the deadline passed: no permit freed below may go to a call of a company sharing it
          if (late) yield* deadline.expire
          const notItsFault = error._tag === "TurnMissed" ||
            (error._tag === "TimeoutException" && mayTakeAnother && !(yield* ownFault(phase, deadline)))
          yield* Fiber.interruptAll([emissionsCall, governanceCall, fundamentalsCall])
          if (error._tag === "SourceError" && ProviderRefused.is(error)) {
            return yield* new ProviderRefused({ source: error.source, status: error.status!, reason: error.reason })
          }
          // late: every source that had not arrived by the deadline; a source that failed: that source alone
          // (the others were cut short by its failure, not missing through a fault of theirs)
          const missing = error._tag === "SourceError" ? [error.source] : phase.missing()
          const detail = error._tag === "SourceError"
            ? error.message
            : `no data within ${durationText(deadline.timeout)} for: ${missing.join(", ")}`
          if (notItsFault) return Either.left<NotItsFault | Skipped>({ _tag: "NotItsFault", detail })
          if (late) yield* Metric.increment(timeouts)
          return Either.left<NotItsFault | Skipped>(
            yield* incomplete(job, error._tag === "SourceError" ? failedSource(error) : new DataIncomplete(), missing, detail)
          )
        }).pipe(Effect.scoped)

      /** The company's data is incomplete: logged, and the company skipped. */
      const incomplete = (job: Job, reason: SkipReason, missing: ReadonlyArray<Source>, detail: string) =>
        Effect.as(
          Effect.logError(DATA_INCOMPLETE).pipe(
            Effect.annotateLogs({ company: job.input, ticker: job.ticker, missing: missing.join(","), detail })
          ),
          skip(job, reason, missing, detail)
        )

      /** The data, over as many turns as the company's neighbours' faults cost it. */
      const dataOf = (job: Job, options: CompanyRunOptions) =>
        Effect.gen(function*() {
          let turn = options.admitted.turn
          while (true) {
            const data = yield* dataPhase(job, turn, options)
            if (Either.isRight(data)) return Either.right(data.right)
            if (data.left._tag === "Skipped" || Option.isNone(turn.next)) return Either.left(data.left as Skipped)
            yield* Metric.increment(turnsAgain)
            yield* Effect.logInfo("Waiting its turn again").pipe(
              Effect.annotateLogs({ company: job.input, ticker: job.ticker, turn: turn.number + 1, detail: data.left.detail })
            )
            turn = yield* turn.next.value
          }
        })

      const run = (job: Job, options: CompanyRunOptions): Effect.Effect<Scored | Skipped, ProviderRefused> =>
        Effect.gen(function*() {
          const data = yield* dataOf(job, options).pipe(Effect.ensuring(options.admitted.letNextIn))
          if (Either.isLeft(data)) return data.left
          const fetchedAt = yield* Clock.currentTimeMillis
          // the three parts were validated when they were decoded: no second validation on the hot path
          const input = new ScoreInput(data.right, true)
          const score = yield* Effect.either(scorer.score(input))
          if (Either.isLeft(score)) {
            yield* Effect.logError("Scoring failed").pipe(
              Effect.annotateLogs({ company: job.input, ticker: job.ticker, detail: score.left.reason })
            )
            return skip(job, new ScoringFailed({ reason: score.left.reason }), [])
          }
          const scored = new Scored({ input: job.input, ...data.right, score: score.right, fetchedAt }, true)
          const entry = yield* cache.put(scored)
          yield* store.save(scored, entry.updatedAt)
          // annotations cost even when debug logs are off: built only when they are on
          yield* Effect.whenLogLevel(
            Effect.logDebug("Company scored").pipe(Effect.annotateLogs({ company: job.input, ticker: job.ticker })),
            LogLevel.Debug
          )
          return scored
        }).pipe(
          // a bug in one company must not lose the others' results: it is reported, and logged in full
          Effect.catchAllDefect((defect) =>
            Effect.as(
              Effect.logError("Company failed unexpectedly", Cause.die(defect)).pipe(
                Effect.annotateLogs({ company: job.input, ticker: job.ticker })
              ),
              skip(job, new InternalError({ defect: String(defect) }), sources)
            )
          )
        )

      return CompanyRun.of({ run })
    })
  )
}

/** The skip reason of a source that failed. */
const failedSource = (error: SourceError): ProviderFailed =>
  new ProviderFailed({
    source: error.source,
    reason: error.reason,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.retryable === true ? { retryable: true } : {})
  })

/**
 * The data phase's meeting point: one fiber per source, and `complete`,
 * which succeeds with the three parts once all have arrived, or fails with
 * the first failure as soon as it happens. Each fiber reports its own exit
 * when it ends (an observer, no fiber of its own), so waiting for three
 * sources costs one `Deferred`, where `Effect.all` forks a fiber per part.
 * It also keeps what tells a company's own fault from its neighbours': when
 * each external request went out, and whether one failed.
 */
interface DataPhase {
  readonly fork: <K extends Source, E extends CallError | TurnMissed>(
    source: K,
    call: Effect.Effect<Data[K], E>
  ) => Effect.Effect<Fiber.RuntimeFiber<Data[K], E>>
  /** One attempt of an external call, as it goes out: when it went out noted, its failure too. */
  readonly attempt: <A>(source: ExternalSource, fetch: Effect.Effect<A, SourceError>) => Effect.Effect<A, SourceError>
  readonly complete: Effect.Effect<Data, CallError | TurnMissed>
  /** The sources that have not arrived (so far). */
  readonly missing: () => ReadonlyArray<Source>
  /** Whether an attempt of `source` failed. */
  readonly faulted: (source: ExternalSource) => boolean
  /** When the latest attempt of `source` went out, while it has not answered (none out: undefined). */
  readonly outSince: (source: ExternalSource) => number | undefined
}

const DataPhase = {
  make: Effect.sync((): DataPhase => {
    const arrived: { -readonly [K in Source]?: Data[K] } = {}
    const out: { [K in ExternalSource]?: number } = {}
    const failed = new Set<ExternalSource>()
    let pending = sources.length
    const complete = Deferred.unsafeMake<Data, CallError | TurnMissed>(FiberId.none)
    return {
      fork: (source, call) =>
        Effect.map(Effect.fork(call), (fiber) => {
          fiber.addObserver((exit) => {
            if (Exit.isFailure(exit)) return Deferred.unsafeDone(complete, Effect.failCause(exit.cause))
            arrived[source] = exit.value
            if (--pending === 0) Deferred.unsafeDone(complete, Effect.succeed(arrived as Data))
          })
          return fiber
        }),
      attempt: (source, fetch) =>
        Effect.zipRight(
          Effect.map(Clock.currentTimeMillis, (now) => void (out[source] = now)),
          Effect.tapError(fetch, () => Effect.sync(() => void failed.add(source)))
        ),
      complete: Deferred.await(complete),
      missing: () => sources.filter((source) => arrived[source] === undefined),
      faulted: (source) => failed.has(source),
      outSince: (source) => (arrived[source] === undefined ? out[source] : undefined)
    }
  })
}
