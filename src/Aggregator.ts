/**
 * The pipeline: admission of companies, the per-company data deadline, the
 * score, and the cache write.
 *
 * Per company, fundamentals (not gated) run beside the emissions and
 * governance calls (one gate permit each). The data phase is bounded by
 * `Effect.timeout`; a company that misses it is skipped, its in-flight calls
 * interrupted (releasing their permits) and `Data Incomplete` logged. Scoring
 * and the cache write come after the deadline and are not bound by it.
 *
 * Two schedules:
 * - `fifo` admits companies one at a time, in input order: the next company
 *   is admitted once the current one holds permits for all its calls, and a
 *   company's deadline starts when its first call is granted a permit. No
 *   company burns its deadline queueing behind others, and at most one
 *   company's calls ever wait on the semaphore.
 * - `eager` starts every company at once with its deadline counting from the
 *   start: the literal reading of the scenario. With two permits, a 2 s
 *   deadline and 2.2 s of API time per company, at most one company can
 *   finish.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Deferred, Duration, Effect, Either, Fiber, FiberSet, HashMap, HashSet, Option, Ref } from "effect"
import { ApiGate, type ExternalSource, type GateStats } from "./ApiGate.js"
import {
  type CompanyOutcome,
  DATA_INCOMPLETE,
  Scored,
  ScoreInput,
  ScoringError,
  Skipped,
  type Source,
  sources,
  type Ticker,
  UNKNOWN_COMPANY
} from "./Domain.js"
import { Emissions } from "./Emissions.js"
import { Fundamentals } from "./Fundamentals.js"
import { Governance } from "./Governance.js"
import { IndexCache } from "./IndexCache.js"
import { defaultRetryPolicy, type Retryable, retryWithinDeadline, type RetryPolicy } from "./RetryPolicy.js"
import { ScoreEngine } from "./ScoreEngine.js"

export type Schedule = "fifo" | "eager"
export const schedules: ReadonlyArray<Schedule> = ["fifo", "eager"]

export interface RunOptions {
  /** Default `fifo`. */
  readonly schedule?: Schedule | undefined
  /** The data deadline per company. Default 2 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Retries of transient provider failures, within the deadline. */
  readonly retry?: RetryPolicy | undefined
  /** How long one company's score may take before it is reported as failed. Default 60 seconds. */
  readonly scoreTimeout?: Duration.DurationInput | undefined
}

export interface RunSummary {
  readonly requested: number
  readonly scored: number
  readonly skipped: number
  readonly cacheSize: number
  readonly elapsedMs: number
  /** External API calls started through the gate (since the gate was built). */
  readonly apiCalls: number
  /** The most external calls the gate ever held in flight at once. */
  readonly maxApiCallsInFlight: number
  readonly apiConcurrency: number
  readonly schedule: Schedule
  readonly timeoutMs: number
  /** Where each source's data came from (`simulated`, a database path, a base URL). */
  readonly sources: Readonly<Record<Source, string>>
}

export interface RunReport {
  /** One outcome per distinct requested company, in input order. */
  readonly outcomes: ReadonlyArray<CompanyOutcome>
  readonly summary: RunSummary
}

interface Job {
  readonly index: number
  readonly input: string
  readonly ticker: Ticker
}

export const DEFAULT_TIMEOUT: Duration.Duration = Duration.seconds(2)

/** Far above a default score (about 0.1 s): only a stuck scorer reaches it, and then the run still ends. */
export const DEFAULT_SCORE_TIMEOUT: Duration.Duration = Duration.seconds(60)

export class Aggregator extends Effect.Service<Aggregator>()("esg-aggregator/Aggregator", {
  effect: Effect.gen(function*() {
    const fundamentals = yield* Fundamentals
    const emissions = yield* Emissions
    const governance = yield* Governance
    const scorer = yield* ScoreEngine
    const cache = yield* IndexCache
    const gate = yield* ApiGate

    const skip = (job: Job, reason: string, missing: ReadonlyArray<Source>, detail?: string) =>
      new Skipped({ input: job.input, ticker: job.ticker, reason, missing, ...(detail === undefined ? {} : { detail }) })

    // the fastest successful request seen per source: a retry needs at least this long
    const fastest = yield* Ref.make(HashMap.empty<ExternalSource, number>())
    const timedCall = <A, E>(source: ExternalSource, ticker: Ticker, effect: Effect.Effect<A, E>, onGranted: Effect.Effect<void>) =>
      gate.call({ source, ticker }, Effect.timed(effect), onGranted).pipe(
        Effect.tap(([duration]) =>
          Ref.update(fastest, (m) =>
            HashMap.set(m, source, Math.min(Duration.toMillis(duration), Option.getOrElse(HashMap.get(m, source), () => Infinity))))
        ),
        Effect.map(([, value]) => value)
      )

    /**
     * One company, start to finish. `admitted` is completed once this company
     * holds permits for all its calls (or has stopped asking): the fifo
     * scheduler admits the next company then.
     */
    const processCompany = (
      job: Job,
      schedule: Schedule,
      timeout: Duration.Duration,
      retry: RetryPolicy,
      scoreTimeout: Duration.Duration,
      admitted: Deferred.Deferred<void>
    ) =>
      Effect.gen(function*() {
        const { ticker } = job
        const arrived = yield* Ref.make(HashSet.empty<Source>())
        const firstGrant = yield* Deferred.make<void>()
        const emissionsGranted = yield* Deferred.make<void>()
        // when this company's deadline started: its first grant (fifo) or now (eager)
        const deadlineStart = yield* Ref.make(Option.none<number>())
        const startDeadline = Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.update(deadlineStart, (start) => Option.orElse(start, () => Option.some(now))))
        if (schedule === "eager") yield* startDeadline

        const track = <A, E>(source: Source, effect: Effect.Effect<A, E>) =>
          Effect.tap(effect, () => Ref.update(arrived, HashSet.add(source)))
        const onGranted = (also: Effect.Effect<unknown>) =>
          Effect.asVoid(Effect.all([startDeadline, Deferred.succeed(firstGrant, undefined), also]))
        const external = <A, E extends Retryable>(source: ExternalSource, fetch: Effect.Effect<A, E>, signal: Effect.Effect<unknown>) =>
          retryWithinDeadline(timedCall(source, ticker, fetch, onGranted(signal)), {
            policy: retry,
            deadlineAt: Effect.map(Ref.get(deadlineStart), (start) =>
              Option.match(start, { onNone: () => Infinity, onSome: (at) => at + Duration.toMillis(timeout) })),
            minDurationMs: Effect.map(Ref.get(fastest), (m) => Option.getOrElse(HashMap.get(m, source), () => 0))
          })

        const data = Effect.all({
          fundamentals: track("fundamentals", fundamentals.fetch(ticker)),
          emissions: track("emissions", external("emissions", emissions.fetch(ticker), Deferred.succeed(emissionsGranted, undefined))),
          governance: track(
            "governance",
            // fifo asks for the second permit only once the first is held, so grants follow input order
            Effect.zipRight(
              schedule === "fifo" ? Deferred.await(emissionsGranted) : Effect.void,
              external("governance", governance.fetch(ticker), Deferred.succeed(admitted, undefined))
            )
          )
        }, { concurrency: "unbounded" }).pipe(
          Effect.ensuring(Effect.zipRight(Deferred.succeed(firstGrant, undefined), Deferred.succeed(admitted, undefined)))
        )

        const dataFiber = yield* Effect.fork(data)
        if (schedule === "fifo") {
          yield* Deferred.await(firstGrant)
        }
        const result = yield* Fiber.join(dataFiber).pipe(Effect.timeout(timeout), Effect.either)

        if (Either.isLeft(result)) {
          yield* Fiber.interrupt(dataFiber)
          const got = yield* Ref.get(arrived)
          const missing = sources.filter((source) => !HashSet.has(got, source))
          const error = result.left
          const detail = Cause.isTimeoutException(error)
            ? `no data within ${Duration.format(timeout)} for: ${missing.join(", ")}`
            : error.message
          const reason = Cause.isTimeoutException(error) ? DATA_INCOMPLETE : `${DATA_INCOMPLETE}: ${error.source} ${error.reason}`
          yield* Effect.logError(DATA_INCOMPLETE).pipe(
            Effect.annotateLogs({ company: job.input, ticker, missing: missing.join(","), detail })
          )
          // a failed source never arrived either, so `missing` names it too
          return skip(job, reason, missing, detail)
        }

        const { fundamentals: f, emissions: e, governance: g } = result.right
        const scored = yield* scorer.score(new ScoreInput({ fundamentals: f, emissions: e, governance: g })).pipe(
          Effect.timeoutFail({
            duration: scoreTimeout,
            onTimeout: () => new ScoringError({ ticker, reason: `no score within ${Duration.format(scoreTimeout)}` })
          }),
          Effect.map((score) => new Scored({ input: job.input, fundamentals: f, emissions: e, governance: g, score })),
          Effect.either
        )
        if (Either.isLeft(scored)) {
          yield* Effect.logError("Scoring failed").pipe(Effect.annotateLogs({ company: job.input, ticker, detail: scored.left.reason }))
          return skip(job, `Scoring failed: ${scored.left.reason}`, [])
        }
        yield* cache.put(scored.right)
        return scored.right
      }).pipe(
        Effect.ensuring(Deferred.succeed(admitted, undefined)),
        Effect.withSpan("Aggregator.company", { attributes: { ticker: job.ticker } })
      )

    /** Produces the report for `inputs` (tickers or names, any case). */
    const run = Effect.fn("Aggregator.run")(function*(inputs: ReadonlyArray<string>, options: RunOptions = {}) {
      const schedule = options.schedule ?? "fifo"
      const timeout = Duration.decode(options.timeout ?? DEFAULT_TIMEOUT)
      const retry = options.retry ?? defaultRetryPolicy
      const scoreTimeout = Duration.decode(options.scoreTimeout ?? DEFAULT_SCORE_TIMEOUT)
      const start = yield* Clock.currentTimeMillis

      const resolved = yield* fundamentals.resolve(inputs)
      const outcomes = yield* Ref.make(HashMap.empty<number, CompanyOutcome>())
      const seen = new Set<Ticker>()
      const jobs: Array<Job> = []
      let index = 0
      for (const [i, resolution] of resolved.entries()) {
        const input = inputs[i]!
        if (Either.isLeft(resolution)) {
          yield* Effect.logWarning(UNKNOWN_COMPANY).pipe(
            Effect.annotateLogs({ company: input, suggestion: resolution.left.suggestion ?? "none" })
          )
          const detail = resolution.left.suggestion
          yield* Ref.update(outcomes, HashMap.set<number, CompanyOutcome>(index++, new Skipped({
            input,
            ticker: null,
            reason: UNKNOWN_COMPANY,
            missing: sources,
            ...(detail === undefined ? {} : { detail: `did you mean ${detail}?` })
          })))
        } else if (seen.has(resolution.right)) {
          yield* Effect.logWarning("Duplicate company ignored").pipe(
            Effect.annotateLogs({ company: input, ticker: resolution.right })
          )
        } else {
          seen.add(resolution.right)
          jobs.push({ index: index++, input, ticker: resolution.right })
        }
      }

      yield* Effect.scoped(Effect.gen(function*() {
        const running = yield* FiberSet.make<void, never>()
        yield* Effect.forEach(jobs, (job) =>
          Effect.gen(function*() {
            const admitted = yield* Deferred.make<void>()
            yield* FiberSet.run(
              running,
              Effect.flatMap(
                processCompany(job, schedule, timeout, retry, scoreTimeout, admitted),
                (outcome) => Ref.update(outcomes, HashMap.set<number, CompanyOutcome>(job.index, outcome))
              ).pipe(
                // a bug in one company's processing must not lose the others' results: it is reported, and logged in full
                Effect.catchAllDefect((defect) =>
                  Effect.zipRight(
                    Effect.logError("Company failed unexpectedly", Cause.die(defect)).pipe(
                      Effect.annotateLogs({ company: job.input, ticker: job.ticker })
                    ),
                    Ref.update(
                      outcomes,
                      HashMap.set<number, CompanyOutcome>(job.index, skip(job, `Internal error: ${String(defect)}`, sources))
                    )
                  )
                )
              )
            )
            if (schedule === "fifo") yield* Deferred.await(admitted)
          }), { discard: true })
        yield* FiberSet.awaitEmpty(running)
      }))

      const collected = yield* Ref.get(outcomes)
      const ordered = Array.from({ length: index }, (_, i) => Option.getOrThrow(HashMap.get(collected, i)))
      const end = yield* Clock.currentTimeMillis
      const stats: GateStats = yield* gate.stats
      const scored = ordered.filter((o) => o._tag === "Scored").length
      return {
        outcomes: ordered,
        summary: {
          requested: ordered.length,
          scored,
          skipped: ordered.length - scored,
          cacheSize: yield* cache.size,
          elapsedMs: end - start,
          apiCalls: stats.calls,
          maxApiCallsInFlight: stats.maxInFlight,
          apiConcurrency: stats.permits,
          schedule,
          timeoutMs: Duration.toMillis(timeout),
          sources: { fundamentals: fundamentals.origin, emissions: emissions.origin, governance: governance.origin }
        }
      } satisfies RunReport
    })

    return { run } as const
  })
}) {}

/** Whether every requested company was scored. */
export const allScored = (report: RunReport): boolean => report.summary.skipped === 0
