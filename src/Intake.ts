/**
 * The intake: what users typed in, resolved to companies, duplicates
 * dropped, each answered from the index cache or, behind it, the persistent
 * store where a fresh score is there; what is left is the run's jobs, in
 * input order. One look at the cache and one query of the store answer a
 * whole chunk of inputs. A job is fetched once its run holds the company's
 * claim in the store (`fetchOnce`): runs sharing a store fetch a company once.
 *
 * @since 0.4.0
 */
import { Chunk, Clock, Duration, Effect, Either, HashMap, Metric, Option } from "effect"
import { type CompanyOutcome, NotInUniverse, Scored, Skipped, sources, type Ticker } from "./Domain.js"
import { Fundamentals } from "./Fundamentals.js"
import { IndexCache } from "./IndexCache.js"
import { cacheHits } from "./Metrics.js"
import type { RunConfig } from "./RunConfig.js"
import { ScoreStore, type StoredScore } from "./ScoreStore.js"

/** A company to run: its position in the input, what the user typed, and its ticker. */
export interface Job {
  readonly index: number
  readonly input: string
  readonly ticker: Ticker
}

/** One company's outcome with its position among the inputs. */
export interface Reported {
  readonly index: number
  readonly outcome: CompanyOutcome
}

export interface Intake {
  /**
   * A chunk of inputs with their positions: the outcomes it answers at once
   * (unknown companies, fresh cached scores), and the jobs left to run.
   */
  readonly take: (
    chunk: Chunk.Chunk<readonly [string, number]>,
    taken?: Taken
  ) => Effect.Effect<{ readonly answered: ReadonlyArray<Reported>; readonly jobs: ReadonlyArray<Job> }>
  /**
   * Runs `fetch` for `job` once this process holds its claim in the store;
   * while another run's claim holds it, that run's score is waited for and
   * answered from the store instead (a claim older than the deadline and
   * `CLAIM_GRACE` is taken over: its run has died). So two runs of one
   * portfolio on one store fetch each company once.
   */
  readonly fetchOnce: <E>(job: Job, fetch: Effect.Effect<CompanyOutcome, E>) => Effect.Effect<CompanyOutcome, E>
  /** Once every input is taken: one line for the warnings beyond the first `WARNINGS_SHOWN` of each kind. */
  readonly finish: Effect.Effect<void>
}

/** What the intake has taken so far: inputs, and the companies they name (duplicates dropped). */
export interface Taken {
  inputs: number
  companies: number
  /** The inputs in all, when known (a list; not a stream). */
  readonly total: number | undefined
  /** Told the companies asked for, each time it changes. */
  readonly onRequested: ((requested: number) => Effect.Effect<void>) | undefined
}

export const taken = (total?: number, onRequested?: Taken["onRequested"]): Taken => ({ inputs: 0, companies: 0, total, onRequested })

/** The companies asked for: those taken, duplicates dropped, and the inputs not yet taken counted as they are. */
export const requested = (taken: Taken): number => taken.companies + (taken.total ?? taken.inputs) - taken.inputs

/** How often a run waiting for another run's score looks for it. */
export const CLAIM_POLL = Duration.millis(100)
/** How long past the company's deadline a claim is kept before another run takes it over. */
export const CLAIM_GRACE = Duration.seconds(30)

/** Unknown companies (and duplicates) warned about one by one; the rest are counted in one line at the end. */
export const WARNINGS_SHOWN = 20

/** The intake of one run; it keeps the tickers it has seen, and is read by that run's one pipeline fiber. */
export const make = (config: RunConfig): Effect.Effect<Intake, never, Fundamentals | IndexCache | ScoreStore> =>
  Effect.gen(function*() {
    const fundamentals = yield* Fundamentals
    const cache = yield* IndexCache
    const store = yield* ScoreStore
    const seen = new Set<string>()
    let unknownSeen = 0
    let duplicatesSeen = 0

    /** A company's answer from the persistent store; behind the index cache, once read, the score is this process's too. */
    const fromStore = (job: Job, hit: StoredScore): Effect.Effect<Scored> =>
      Effect.suspend(() => {
        const outcome = Scored.fromCache(hit.scored, job.input, hit.scoredAt)
        return Effect.as(cache.put(outcome), outcome)
      })

    const resolve = (chunk: Chunk.Chunk<readonly [string, number]>) =>
      Effect.map(fundamentals.resolve(Chunk.toReadonlyArray(chunk).map(([input]) => input)), (resolutions) =>
        resolutions.map((resolution, i): Either.Either<Job, Reported> => {
          const [input, index] = Chunk.unsafeGet(chunk, i)
          if (Either.isRight(resolution)) return Either.right({ index, input, ticker: resolution.right })
          const { suggestion } = resolution.left
          return Either.left({
            index,
            // built from values already checked: no validation, which costs more than the rest of an unknown name
            outcome: new Skipped({
              input,
              ticker: null,
              reason: new NotInUniverse(suggestion === undefined ? {} : { suggestion }, true),
              missing: sources,
              ...(suggestion === undefined ? {} : { detail: `did you mean ${suggestion}?` })
            }, true)
          })
        }))

    const take: Intake["take"] = (chunk, counted) =>
      Effect.gen(function*() {
        const cached = yield* cache.snapshot
        const since = (yield* Clock.currentTimeMillis) - Duration.toMillis(config.maxAge)
        const answered: Array<Reported> = []
        const warnings: Array<Effect.Effect<void>> = []
        const misses: Array<Job> = []
        let unknown = 0
        for (const next of yield* resolve(chunk)) {
          if (Either.isLeft(next)) {
            if (++unknownSeen <= WARNINGS_SHOWN) warnings.push(unknownWarning(next.left.outcome))
            answered.push(next.left)
            unknown++
          } else if (seen.has(next.right.ticker)) {
            if (++duplicatesSeen <= WARNINGS_SHOWN) {
              warnings.push(Effect.logWarning("Duplicate company ignored").pipe(
                Effect.annotateLogs({ company: next.right.input, ticker: next.right.ticker })
              ))
            }
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
        const jobs: Array<Job> = []
        for (const job of misses) {
          const hit = stored.get(job.ticker)
          if (hit === undefined) jobs.push(job)
          else answered.push({ index: job.index, outcome: yield* fromStore(job, hit) })
        }
        yield* Effect.all(warnings, { discard: true })
        if (counted !== undefined) {
          counted.inputs += chunk.length
          counted.companies += answered.length + jobs.length
          if (counted.onRequested !== undefined) yield* counted.onRequested(requested(counted))
        }
        const hits = answered.length - unknown
        if (hits > 0) yield* Metric.incrementBy(cacheHits, hits)
        return { answered, jobs }
      })

    // a claim older than this was left by a run that died: the company's deadline, and a grace for its score's write
    const staleMs = Duration.toMillis(config.timeout) + Duration.toMillis(CLAIM_GRACE)

    const fetchOnce: Intake["fetchOnce"] = (job, fetch) =>
      config.refresh
        ? fetch
        : Effect.gen(function*() {
          const stored = Effect.map(store.fresh([job.ticker], config.maxAge), (found) => Option.fromNullable(found.get(job.ticker)))
          const answer = (hit: StoredScore) => Effect.tap(fromStore(job, hit), () => Metric.increment(cacheHits))
          for (;;) {
            if (yield* store.claim(job.ticker, staleMs)) {
              // a claim is released after its score is written: one free now may have been freed by a score
              const hit = yield* stored
              if (Option.isSome(hit)) return yield* Effect.zipRight(store.release(job.ticker), answer(hit.value))
              // a score's write releases its claim; anything else gives it up here
              return yield* fetch.pipe(
                Effect.tap((outcome) => outcome._tag === "Scored" ? Effect.void : store.release(job.ticker)),
                Effect.onError(() => store.release(job.ticker))
              )
            }
            yield* Effect.sleep(CLAIM_POLL)
            const hit = yield* stored
            if (Option.isSome(hit)) return yield* answer(hit.value)
          }
        })

    const finish = Effect.suspend(() =>
      Effect.all([
        unknownSeen > WARNINGS_SHOWN
          ? Effect.logWarning(
            `and ${count(unknownSeen - WARNINGS_SHOWN)} more companies not in the universe; all are in the report`
          )
          : Effect.void,
        duplicatesSeen > WARNINGS_SHOWN
          ? Effect.logWarning(`and ${count(duplicatesSeen - WARNINGS_SHOWN)} more duplicate companies ignored`)
          : Effect.void
      ], { discard: true })
    )

    return { take, fetchOnce, finish }
  })

const count = (n: number): string => n.toLocaleString("en-US")

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
