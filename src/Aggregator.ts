/**
 * The run as a whole: a stream of what users typed in, a stream of each
 * company's outcome out, as each company completes.
 *
 *   inputs ─ resolve ─ drop duplicates ─┬─ cached? ─────────────────────────┬─ outcomes
 *                                       └─ admit (Admission) ─ CompanyRun ──┘
 *
 * A company already in the index cache is answered from it and skips the
 * pipeline entirely. Memory is bounded by what is in flight (at most
 * `concurrency` companies, and a small outcome buffer), not by the number of
 * inputs; only the index cache and the set of tickers already seen grow with
 * the distinct companies. `run` is the stream collected into a report.
 *
 * With `secondPass`, a company the first pass skipped for a transient reason
 * is held back, not reported, and run once more after the first pass, with a
 * fresh deadline; its outcome is then reported, marked `secondPass`. Every
 * company is still reported exactly once.
 *
 * @since 0.1.0
 */
import { Chunk, Clock, Context, Duration, Effect, Either, FiberSet, HashMap, Layer, Mailbox, Metric, Option, Stream } from "effect"
import * as Admission from "./Admission.js"
import { type Schedule, schedules } from "./Admission.js"
import { ApiGate, type GateUnavailable } from "./ApiGate.js"
import { CompanyRun, type Job } from "./CompanyRun.js"
import {
  type CompanyOutcome,
  inSecondPass,
  NotInUniverse,
  type ProviderRefused,
  Scored,
  Skipped,
  type Source,
  sources,
  type Ticker
} from "./Domain.js"
import { Emissions } from "./Emissions.js"
import { Fundamentals } from "./Fundamentals.js"
import { Governance } from "./Governance.js"
import { IndexCache } from "./IndexCache.js"
import { defaultRetryPolicy, type RetryPolicy } from "./RetryPolicy.js"
import { Scenario } from "./Scenario.js"
import * as Metrics from "./Metrics.js"
import { cacheHits } from "./Metrics.js"
import { ScoreEngine } from "./ScoreEngine.js"
import { ScoreStore, type StoredScore } from "./ScoreStore.js"

export { type Schedule, schedules }

export interface RunOptions {
  /** Default `fifo`. */
  readonly schedule?: Schedule | undefined
  /** The data deadline per company. Default 2 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Retries of transient provider failures, within the deadline. */
  readonly retry?: RetryPolicy | undefined
  /** Companies in flight at once, at most (default 64). */
  readonly concurrency?: number | undefined
  /** How old a cached score may be and still be reused without any call (default 24 hours). */
  readonly maxAge?: Duration.DurationInput | undefined
  /** Ignore cached scores: every company through the pipeline (its new score is cached). Default false. */
  readonly refresh?: boolean | undefined
  /**
   * Give the companies skipped for a transient reason (a missed deadline, a
   * connection error, 5xx, 429) one more try after the first pass, each with
   * a fresh deadline; their outcomes are marked `secondPass`. Default false.
   */
  readonly secondPass?: boolean | undefined
  /**
   * Stops the run early when it completes (a shutdown signal, say): the
   * companies in flight are interrupted, their permits released, and `run`
   * reports what finished, marked `partial`.
   */
  readonly until?: Effect.Effect<unknown> | undefined
  /** Called with each outcome as it completes, before `run` collects it (a streaming output, a progress line). */
  readonly onOutcome?: ((reported: Reported) => Effect.Effect<void>) | undefined
}

/** Every run option, resolved. */
export interface RunConfig {
  readonly schedule: Schedule
  readonly timeout: Duration.Duration
  readonly retry: RetryPolicy
  readonly concurrency: number
  readonly maxAge: Duration.Duration
  readonly refresh: boolean
  readonly secondPass: boolean
}

export const DEFAULT_TIMEOUT: Duration.Duration = Scenario.timeout

export const defaultRunConfig: RunConfig = {
  schedule: "fifo",
  timeout: DEFAULT_TIMEOUT,
  retry: defaultRetryPolicy,
  concurrency: 64,
  maxAge: Duration.hours(24),
  refresh: false,
  secondPass: false
}

/** `options` over `base`: every run option resolved. */
export const resolveRunConfig = (options: RunOptions, base: RunConfig): RunConfig => ({
  schedule: options.schedule ?? base.schedule,
  timeout: Duration.decode(options.timeout ?? base.timeout),
  retry: options.retry ?? base.retry,
  concurrency: Math.max(1, options.concurrency ?? base.concurrency),
  maxAge: options.maxAge === undefined ? base.maxAge : Duration.decode(options.maxAge),
  refresh: options.refresh ?? base.refresh,
  secondPass: options.secondPass ?? base.secondPass
})

/** The run options an application gives its aggregator (see `App`); a run's own options override them. */
export class RunDefaults extends Context.Reference<RunDefaults>()("esg-aggregator/RunDefaults", {
  defaultValue: (): RunConfig => defaultRunConfig
}) {}

/** One company's outcome with its position among the inputs. */
export interface Reported {
  readonly index: number
  readonly outcome: CompanyOutcome
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
  /** Where the scores were computed: `main thread` or `worker threads`. */
  readonly scoring: string
  /** Outcomes answered from a cache (this process's index cache, or the persistent store) without any call. */
  readonly cached: number
  /** Where scores persist across runs: a file path, or `none`. */
  readonly cache: string
  /** The run's share of the process's metrics (`Metrics`). */
  readonly metrics: Metrics.RunMetrics
  /**
   * Whether the run was stopped (`RunOptions.until`, or the gate lost) before
   * every input finished: the outcomes are what finished.
   */
  readonly partial: boolean
  /** Whose permits the calls held: `this process`, or where a team's are held. */
  readonly gate: string
  /** The longest a call waited for its permit, in milliseconds: with a team, how long the others kept this run waiting. */
  readonly longestPermitWaitMs: number
  /** Why the gate could grant no more permits, when that ended the run. */
  readonly gateLost?: string
  /** Companies given a second pass (`RunOptions.secondPass`); their outcomes are marked `secondPass`. */
  readonly secondPass: number
}

export interface RunReport {
  /** One outcome per distinct requested company, in input order. */
  readonly outcomes: ReadonlyArray<CompanyOutcome>
  readonly summary: RunSummary
}

/** Outcomes buffered between the pipeline and a slow consumer before companies wait to hand theirs over. */
const OUTCOME_BUFFER = 256

export interface AggregatorService {
  /**
   * Each company's outcome as it completes (tickers or names, any case;
   * duplicates dropped). It fails only when a provider refuses the
   * credentials, which no company could get past, or when the gate can no
   * longer grant permits.
   */
  readonly stream: (
    inputs: Stream.Stream<string>,
    options?: RunOptions
  ) => Stream.Stream<Reported, ProviderRefused | GateUnavailable>
  /** The report for `inputs`: the stream collected, in input order, with a summary. */
  readonly run: (inputs: ReadonlyArray<string>, options?: RunOptions) => Effect.Effect<RunReport, ProviderRefused>
}

export class Aggregator extends Context.Tag("esg-aggregator/Aggregator")<Aggregator, AggregatorService>() {
  static readonly layer: Layer.Layer<
    Aggregator,
    never,
    Fundamentals | Emissions | Governance | IndexCache | ScoreStore | ApiGate | CompanyRun | ScoreEngine
  > = Layer.effect(
    Aggregator,
    Effect.gen(function*() {
      const fundamentals = yield* Fundamentals
      const emissions = yield* Emissions
      const governance = yield* Governance
      const cache = yield* IndexCache
      const store = yield* ScoreStore
      const gate = yield* ApiGate
      const companyRun = yield* CompanyRun
      const scorer = yield* ScoreEngine
      const defaults = yield* RunDefaults

      const configOf = (options: RunOptions): RunConfig => resolveRunConfig(options, defaults)

      /** A company's answer from the persistent store; behind the index cache, once read, the score is this process's too. */
      const fromStore = (job: Job, hit: StoredScore): Effect.Effect<Scored> =>
        Effect.suspend(() => {
          const outcome = Scored.fromCache(hit.scored, job.input, hit.scoredAt)
          return Effect.as(cache.put(outcome), outcome)
        })

      /** Resolves a chunk of inputs to jobs, or to the outcome of an input that needs no run. */
      const resolveChunk = (chunk: Chunk.Chunk<readonly [string, number]>) =>
        Effect.map(fundamentals.resolve(Chunk.toReadonlyArray(chunk).map(([input]) => input)), (resolutions) =>
          resolutions.map((resolution, i): Either.Either<Job, Reported> => {
            const [input, index] = Chunk.unsafeGet(chunk, i)
            return Either.isRight(resolution)
              ? Either.right({ index, input, ticker: resolution.right })
              : Either.left({
                index,
                outcome: new Skipped({
                  input,
                  ticker: null,
                  reason: new NotInUniverse(
                    resolution.left.suggestion === undefined ? {} : { suggestion: resolution.left.suggestion }
                  ),
                  missing: sources,
                  ...(resolution.left.suggestion === undefined ? {} : { detail: `did you mean ${resolution.left.suggestion}?` })
                })
              })
          }))

      /**
       * The stream; `held`, given, gets each first-pass outcome held back for
       * the second pass (its reader removes it once the second outcome
       * arrives), so that a run stopped before then still reports it.
       */
      const streamHolding = (
        inputs: Stream.Stream<string>,
        options: RunOptions,
        held?: Map<number, CompanyOutcome>
      ): Stream.Stream<Reported, ProviderRefused> =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const config = configOf(options)
          const out = yield* Mailbox.make<Reported, ProviderRefused>(OUTCOME_BUFFER)
          const running = yield* FiberSet.make<void>()
          const slots = yield* Effect.makeSemaphore(config.concurrency)
          const firstPass = yield* Admission.make(config.schedule, config.timeout)
          // owned by this stream's one pipeline fiber, which reads and writes it in turn
          const seen = new Set<string>()
          // the companies the first pass skipped for a transient reason, when there is a second pass
          const secondPass: Array<Job> = []

          /**
           * A score another process stored since the run looked (a team
           * sharing a store): looked up again as the company is admitted,
           * so that runs overlapping in time fetch a company once.
           */
          const storedSince = (job: Job): Effect.Effect<Option.Option<Scored>> =>
            config.refresh || !store.shared
              ? Effect.succeedNone
              : Effect.flatMap(store.fresh([job.ticker], config.maxAge), (found) => {
                const hit = found.get(job.ticker)
                return hit === undefined
                  ? Effect.succeedNone
                  : Effect.map(Effect.tap(fromStore(job, hit), () => Metric.increment(cacheHits)), Option.some)
              })

          // a slot is taken before the turn: a newcomer holding the turn while it waits for a slot would keep out
          // a company waiting for its turn again, itself holding a slot
          const runIn = (admission: Admission.Admission, pass: 1 | 2) => (job: Job): Effect.Effect<void> =>
            Effect.zipRight(
              slots.take(1),
              admission.admit((admitted) =>
                FiberSet.run(
                  running,
                  (pass === 1 ? storedSince(job) : Effect.succeedNone).pipe(
                    Effect.flatMap(Option.match({
                      onSome: (outcome): Effect.Effect<Scored | Skipped, ProviderRefused> =>
                        Effect.as(admitted.letNextIn, outcome),
                      onNone: () => companyRun.run(job, { admitted, retry: config.retry })
                    })),
                    Effect.matchEffect({
                      // refused credentials end the whole stream: no other company could be served
                      onFailure: (refused) => out.fail(refused),
                      onSuccess: (outcome) =>
                        pass === 2
                          ? out.offer({ index: job.index, outcome: inSecondPass(outcome) })
                          : config.secondPass && outcome._tag === "Skipped" && outcome.transient
                          ? Effect.sync(() => {
                            secondPass.push(job)
                            held?.set(job.index, outcome)
                          })
                          : out.offer({ index: job.index, outcome })
                    }),
                    // whatever ends the company (a defect reading the store, say), the next one is let in
                    Effect.ensuring(Effect.zipRight(admitted.letNextIn, slots.release(1)))
                  )
                )
              ))
          const run = runIn(firstPass, 1)

          /** The first pass's transient skips, in input order, each with a fresh deadline. */
          const runSecondPass = Effect.suspend(() =>
            secondPass.length === 0 ? Effect.void : Effect.gen(function*() {
              const jobs = secondPass.sort((a, b) => a.index - b.index)
              yield* Effect.logInfo("Second pass").pipe(Effect.annotateLogs({ companies: jobs.length }))
              yield* Effect.forEach(jobs, runIn(yield* Admission.make(config.schedule, config.timeout), 2), { discard: true })
              yield* FiberSet.awaitEmpty(running)
            }))

          /**
           * A chunk of resolved inputs. What needs no run (an unknown company,
           * a company with a fresh score in the index cache or, behind it, in
           * the persistent store) is answered at once, from one look at each,
           * and handed over together; duplicates are dropped; the rest is
           * admitted in input order.
           */
          const handle = (chunk: Chunk.Chunk<Either.Either<Job, Reported>>) =>
            Effect.gen(function*() {
              const cached = yield* cache.snapshot
              const since = (yield* Clock.currentTimeMillis) - Duration.toMillis(config.maxAge)
              const answered: Array<Reported> = []
              let unknown = 0
              const warnings: Array<Effect.Effect<void>> = []
              const misses: Array<Job> = []
              for (const next of chunk) {
                if (Either.isLeft(next)) {
                  warnings.push(unknownWarning(next.left.outcome))
                  answered.push(next.left)
                  unknown++
                } else if (seen.has(next.right.ticker)) {
                  warnings.push(Effect.logWarning("Duplicate company ignored").pipe(
                    Effect.annotateLogs({ company: next.right.input, ticker: next.right.ticker })
                  ))
                } else {
                  const job = next.right
                  seen.add(job.ticker)
                  const hit = config.refresh ? Option.none() : HashMap.get(cached, job.ticker)
                  if (Option.isSome(hit) && hit.value.updatedAt >= since) {
                    answered.push({ index: job.index, outcome: Scored.fromCache(hit.value.value, job.input, hit.value.updatedAt) })
                  } else misses.push(job)
                }
              }
              const stored = config.refresh || misses.length === 0
                ? new Map<Ticker, StoredScore>()
                : yield* store.fresh(misses.map((job) => job.ticker), config.maxAge)
              const toRun: Array<Job> = []
              for (const job of misses) {
                const hit = stored.get(job.ticker)
                if (hit === undefined) toRun.push(job)
                else answered.push({ index: job.index, outcome: yield* fromStore(job, hit) })
              }
              yield* Effect.all(warnings, { discard: true })
              const hits = answered.length - unknown
              if (hits > 0) yield* Metric.incrementBy(cacheHits, hits)
              yield* out.offerAll(answered)
              yield* Effect.forEach(toRun, run, { discard: true })
            })

          const pipeline = inputs.pipe(
            Stream.zipWithIndex,
            Stream.mapChunksEffect((chunk) => Effect.map(resolveChunk(chunk), Chunk.unsafeFromArray)),
            Stream.runForEachChunk(handle),
            Effect.zipRight(FiberSet.awaitEmpty(running)),
            Effect.zipRight(runSecondPass)
          )
          yield* Effect.forkScoped(Mailbox.into(pipeline, out))
          return Mailbox.toStream(out)
        }))

      const stream: AggregatorService["stream"] = (inputs, options = {}) =>
        Stream.interruptWhen(streamHolding(inputs, options), Effect.flip(gate.lost))

      const run: AggregatorService["run"] = (inputs, options = {}) =>
        Effect.gen(function*() {
          const config = configOf(options)
          const start = yield* Clock.currentTimeMillis
          const metrics = yield* Metrics.measure
          let stopped = false
          let lost: GateUnavailable | undefined
          const held = new Map<number, CompanyOutcome>()
          const streamed = streamHolding(Stream.fromIterable(inputs), options, held)
          const all = options.onOutcome === undefined ? streamed : Stream.tap(streamed, options.onOutcome)
          // the run stops early when asked to, or when the gate can no longer grant permits
          const stop = Effect.raceFirst(
            options.until === undefined ? Effect.never : Effect.tap(options.until, () => Effect.sync(() => void (stopped = true))),
            Effect.tap(gate.lost, (reason) => Effect.sync(() => void (lost = reason)))
          )
          const outcomes = yield* Stream.runFold(
            Stream.interruptWhen(all, stop),
            [] as Array<Reported>,
            (all, reported) => {
              all.push(reported)
              if (reported.outcome.secondPass === true) held.delete(reported.index)
              return all
            }
          )
          // stopped during the second pass: the first pass's outcomes still waiting for theirs are reported as they were
          for (const [index, outcome] of held) outcomes.push({ index, outcome })
          const ordered = outcomes.sort((a, b) => a.index - b.index).map((r) => r.outcome)
          const end = yield* Clock.currentTimeMillis
          const stats = yield* gate.stats
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
              schedule: config.schedule,
              timeoutMs: Duration.toMillis(config.timeout),
              sources: { fundamentals: fundamentals.origin, emissions: emissions.origin, governance: governance.origin },
              scoring: scorer.origin,
              cached: ordered.filter((o) => o._tag === "Scored" && o.cachedAt !== undefined).length,
              cache: store.origin,
              metrics: yield* metrics,
              partial: stopped || lost !== undefined,
              gate: gate.origin,
              longestPermitWaitMs: stats.longestWaitMs,
              ...(lost === undefined ? {} : { gateLost: lost.message }),
              secondPass: ordered.filter((o) => o.secondPass === true).length
            }
          } satisfies RunReport
        }).pipe(Effect.withSpan("Aggregator.run"))

      return Aggregator.of({ stream, run })
    })
  )
}

/** The warning logged for an input that is not in the universe. */
const unknownWarning = (outcome: CompanyOutcome): Effect.Effect<void> =>
  Effect.logWarning("Unknown company").pipe(
    Effect.annotateLogs({
      company: outcome.input,
      suggestion: outcome._tag === "Skipped" && outcome.reason._tag === "NotInUniverse"
        ? outcome.reason.suggestion ?? "none"
        : "none"
    })
  )

/** Whether every requested company was scored. */
export const allScored = (report: RunReport): boolean => report.summary.skipped === 0
