/**
 * One company, start to finish: its data phase under its deadline, its
 * score, its cache write (the index cache, and the persistent store behind it).
 *
 * The data phase: the emissions call asks the gate for a permit; the grant
 * is the company's first request and starts its deadline. Then the
 * governance call asks for the second permit (so under `fifo` grants follow
 * input order), and the fundamentals lookup goes out; it is not gated, but it
 * never goes out before the company's clock has started. `Effect.timeout`
 * bounds the phase with what is left of the deadline. A company that misses
 * it is skipped with `Data Incomplete` logged; its calls are interrupted,
 * which releases their permits. Scoring and the cache write come after the
 * data; the scorer bounds its own time (`ScoreEngine.bounded`).
 *
 * @since 0.2.0
 */
import { Cause, Context, Deferred, Duration, Effect, Either, Exit, Fiber, FiberId, Layer, Metric } from "effect"
import { ApiGate, type ExternalSource } from "./ApiGate.js"
import type { Admitted } from "./Admission.js"
import {
  DATA_INCOMPLETE,
  DataIncomplete,
  type EmissionData,
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
  sources,
  type Ticker
} from "./Domain.js"
import { Emissions } from "./Emissions.js"
import { Fundamentals } from "./Fundamentals.js"
import { Governance } from "./Governance.js"
import { IndexCache } from "./IndexCache.js"
import { timeouts } from "./Metrics.js"
import { type CallError, type RetryPolicy, withRetries } from "./RetryPolicy.js"
import { ScoreEngine } from "./ScoreEngine.js"
import { ScoreStore } from "./ScoreStore.js"

/** A company to run: its position in the input, what the user typed, and its ticker. */
export interface Job {
  readonly index: number
  readonly input: string
  readonly ticker: Ticker
}

/** What admission gave the company (its deadline and its admission signal), and its retry policy. */
export interface CompanyRunOptions extends Admitted {
  readonly retry: RetryPolicy
}

interface Data {
  readonly fundamentals: FundamentalsData
  readonly emissions: EmissionData
  readonly governance: GovernanceRating
}

export interface CompanyRunService {
  /** Fails only when a provider refuses the credentials: then no company can be served. */
  readonly run: (job: Job, options: CompanyRunOptions) => Effect.Effect<Scored | Skipped, ProviderRefused>
}

export class CompanyRun extends Context.Tag("esg-aggregator/CompanyRun")<CompanyRun, CompanyRunService>() {
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
        source: ExternalSource,
        ticker: Ticker,
        fetch: Effect.Effect<A, SourceError>,
        options: CompanyRunOptions
      ): Effect.Effect<A, CallError> =>
        gate.call({ source, ticker, deadline: options.deadline }, fetch, (attempt) =>
          withRetries(attempt, options.retry, {
            deadline: options.deadline,
            // a retry needs at least as long as the fastest request this source has answered
            minDurationMs: gate.fastestMillis(source)
          }))

      const skip = (job: Job, reason: SkipReason, missing: ReadonlyArray<Source>, detail?: string) =>
        new Skipped({ input: job.input, ticker: job.ticker, reason, missing, ...(detail === undefined ? {} : { detail }) })

      const dataPhase = (job: Job, options: CompanyRunOptions) =>
        Effect.gen(function*() {
          const { deadline, admitted } = options
          const { ticker } = job
          const phase = yield* DataPhase.make

          const emissionsCall = yield* phase.fork("emissions", external("emissions", ticker, emissions.fetch(ticker), options))
          yield* deadline.started
          // the second permit is asked for once the first is held: at most one company ever waits on the gate
          const governanceCall = yield* phase.fork(
            "governance",
            external("governance", ticker, Effect.zipRight(admitted.open, governance.fetch(ticker)), options)
          )
          const fundamentalsCall = yield* phase.fork("fundamentals", fundamentals.fetch(ticker))
          // the first failure ends the phase at once; the calls are interrupted below, releasing their permits
          const result = yield* phase.complete.pipe(Effect.timeout(yield* deadline.remainingMillis), Effect.either)
          if (Either.isRight(result)) return Either.right(result.right)

          const error = result.left
          // the deadline passed: no permit freed below may go to a call of a company sharing it
          if (error._tag !== "SourceError") yield* Effect.zipRight(deadline.expire, Metric.increment(timeouts))
          yield* Fiber.interruptAll([emissionsCall, governanceCall, fundamentalsCall])
          if (error._tag === "SourceError" && ProviderRefused.is(error)) {
            return yield* new ProviderRefused({ source: error.source, status: error.status! })
          }
          // a failed source never arrived either, so `missing` names it too
          const missing = phase.missing()
          const reason: SkipReason = error._tag === "SourceError"
            ? new ProviderFailed({
              source: error.source,
              reason: error.reason,
              ...(error.status === undefined ? {} : { status: error.status }),
              ...(error.retryable === true ? { retryable: true } : {})
            })
            : new DataIncomplete()
          const detail = error._tag === "SourceError"
            ? error.message
            : `no data within ${Duration.format(deadline.timeout)} for: ${missing.join(", ")}`
          yield* Effect.logError(DATA_INCOMPLETE).pipe(
            Effect.annotateLogs({ company: job.input, ticker, missing: missing.join(","), detail })
          )
          return Either.left(skip(job, reason, missing, detail))
        }).pipe(Effect.ensuring(options.admitted.open))

      const run = (job: Job, options: CompanyRunOptions): Effect.Effect<Scored | Skipped, ProviderRefused> =>
        Effect.gen(function*() {
          const data = yield* dataPhase(job, options)
          if (Either.isLeft(data)) return data.left
          // the three parts were validated when they were decoded: no second validation on the hot path
          const input = new ScoreInput(data.right, true)
          const score = yield* Effect.either(scorer.score(input))
          if (Either.isLeft(score)) {
            yield* Effect.logError("Scoring failed").pipe(
              Effect.annotateLogs({ company: job.input, ticker: job.ticker, detail: score.left.reason })
            )
            return skip(job, new ScoringFailed({ reason: score.left.reason }), [])
          }
          const scored = new Scored({ input: job.input, ...data.right, score: score.right }, true)
          const entry = yield* cache.put(scored)
          yield* store.save(scored, entry.updatedAt)
          yield* Effect.logDebug("Company scored").pipe(Effect.annotateLogs({ company: job.input, ticker: job.ticker }))
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

/**
 * The data phase's meeting point: one fiber per source, and `complete`,
 * which succeeds with the three parts once all have arrived, or fails with
 * the first failure as soon as it happens. Each fiber reports its own exit
 * when it ends (an observer, no fiber of its own), so waiting for three
 * sources costs one `Deferred`, where `Effect.all` forks a fiber per part.
 */
interface DataPhase {
  readonly fork: <K extends Source, E extends CallError>(
    source: K,
    call: Effect.Effect<Data[K], E>
  ) => Effect.Effect<Fiber.RuntimeFiber<Data[K], E>>
  readonly complete: Effect.Effect<Data, CallError>
  /** The sources that have not arrived (so far). */
  readonly missing: () => ReadonlyArray<Source>
}

const DataPhase = {
  make: Effect.sync((): DataPhase => {
    const arrived: { -readonly [K in Source]?: Data[K] } = {}
    let pending = sources.length
    const complete = Deferred.unsafeMake<Data, CallError>(FiberId.none)
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
      complete: Deferred.await(complete),
      missing: () => sources.filter((source) => arrived[source] === undefined)
    }
  })
}
