/**
 * The run as a whole: a stream of what users typed in, a stream of each
 * company's outcome out, as each company completes; `run` collects it into
 * a report. Each stage is a file of its own (`Intake`, `Admission`,
 * `CompanyRun`, `SecondPass`, `Summary`). Memory is bounded by what is in
 * flight, not by the number of inputs.
 *
 * The design: docs/design.md#srcaggregatorts
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, FiberSet, Layer, Mailbox, Stream } from "effect"
import * as Admission from "./Admission.js"
import { ApiGate, type GateUnavailable } from "./ApiGate.js"
import { CompanyRun } from "./CompanyRun.js"
import { inSecondPass, type ProviderRefused } from "./Domain.js"
import { Emissions } from "./Emissions.js"
import { Fundamentals } from "./Fundamentals.js"
import { Governance } from "./Governance.js"
import { IndexCache } from "./IndexCache.js"
import * as Intake from "./Intake.js"
import type { Reported } from "./Intake.js"
import * as Metrics from "./Metrics.js"
import { type RunConfig, RunDefaults, type RunOptions, resolveRunConfig } from "./RunConfig.js"
import { ScoreEngine } from "./ScoreEngine.js"
import { ScoreStore } from "./ScoreStore.js"
import * as SecondPass from "./SecondPass.js"
import { type Origins, type RunReport, summarize } from "./Summary.js"

/** Outcomes buffered between the pipeline and a slow consumer before companies wait to hand theirs over. */
const OUTCOME_BUFFER = 256

/**
 * The run as a service: `stream` gives each company's outcome as it completes; `run` collects them into a report.
 *
 * @since 0.1.0
 */
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

/**
 * The whole-run pipeline as a service, built by `Aggregator.layer`.
 *
 * @since 0.1.0
 */
export class Aggregator extends Context.Tag("esg-aggregator/Aggregator")<Aggregator, AggregatorService>() {
  /**
   * Builds `stream` and `run` from the sources, the scorer, both caches, the gate, `CompanyRun` and the application's `RunDefaults`.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<
    Aggregator,
    never,
    Fundamentals | Emissions | Governance | IndexCache | ScoreStore | ApiGate | CompanyRun | ScoreEngine
  > = Layer.effect(
    Aggregator,
    Effect.gen(function*() {
      const services = yield* Effect.context<Fundamentals | IndexCache | ScoreStore>()
      const cache = yield* IndexCache
      const gate = yield* ApiGate
      const companyRun = yield* CompanyRun
      const defaults = yield* RunDefaults
      const origins: Origins = {
        sources: {
          fundamentals: (yield* Fundamentals).origin,
          emissions: (yield* Emissions).origin,
          governance: (yield* Governance).origin
        },
        scoring: (yield* ScoreEngine).origin,
        cache: (yield* ScoreStore).origin,
        gate: gate.origin
      }

      /**
       * The outcomes of one run as each company completes; the second pass
       * holds back what it will run again. It fails once the gate is lost:
       * watched once, by a fiber of the run's own, not raced per outcome.
       */
      const outcomes = (
        inputs: Stream.Stream<string>,
        config: RunConfig,
        second: SecondPass.SecondPass,
        taken: Intake.Taken = Intake.taken()
      ): Stream.Stream<Intake.Reported, ProviderRefused | GateUnavailable> =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const out = yield* Mailbox.make<Intake.Reported, ProviderRefused | GateUnavailable>(OUTCOME_BUFFER)
          yield* Effect.forkScoped(Effect.flatMap(gate.lost, (lost) => out.fail(lost)))
          const running = yield* FiberSet.make<void>()
          const slots = yield* Effect.makeSemaphore(config.concurrency)
          const intake = yield* Effect.provide(Intake.make(config), services)

          /**
           * One company: a slot, then its turn, then its run in a fiber of its
           * own. The slot comes first: a newcomer holding the turn while it
           * waited for a slot would keep out a company waiting for its turn
           * again, itself holding a slot.
           */
          const start = (pass: 1 | 2) => (admission: Admission.Admission, job: Intake.Job): Effect.Effect<void> =>
            Effect.zipRight(
              slots.take(1),
              admission.admit((admitted) =>
                FiberSet.run(
                  running,
                  // a score another run stored meanwhile is found as the company's claim is taken
                  intake.fetchOnce(job, companyRun.run(job, { admitted, retry: config.retry })).pipe(
                    Effect.matchEffect({
                      // refused credentials end the whole stream: no other company could be served
                      onFailure: (refused) => out.fail(refused),
                      onSuccess: (outcome) => {
                        const reported = { index: job.index, outcome: pass === 2 ? inSecondPass(outcome) : outcome }
                        return pass === 1 && second.holds(job, reported) ? Effect.void : out.offer(reported)
                      }
                    }),
                    // whatever ends the company (a defect reading the store, say), the next one is let in
                    Effect.ensuring(Effect.zipRight(admitted.letNextIn, slots.release(1)))
                  )
                )
              )
            )

          const firstPass = yield* Admission.make(config.schedule, config.timeout)
          const pipeline = inputs.pipe(
            Stream.zipWithIndex,
            Stream.runForEachChunk((chunk) =>
              Effect.flatMap(intake.take(chunk, taken), ({ answered, jobs }) =>
                Effect.zipRight(
                  out.offerAll(answered),
                  Effect.forEach(jobs, (job) => start(1)(firstPass, job), { discard: true })
                ))
            ),
            Effect.zipRight(intake.finish),
            Effect.zipRight(FiberSet.awaitEmpty(running)),
            Effect.zipRight(second.run(start(2), FiberSet.awaitEmpty(running)))
          )
          yield* Effect.forkScoped(Mailbox.into(pipeline, out))
          return Mailbox.toStream(out)
        }))

      const stream: AggregatorService["stream"] = (inputs, options = {}) => {
        const config = resolveRunConfig(options, defaults)
        return outcomes(inputs, config, SecondPass.make(config))
      }

      const run: AggregatorService["run"] = (inputs, options = {}) =>
        Effect.gen(function*() {
          const config = resolveRunConfig(options, defaults)
          const start = yield* Clock.currentTimeMillis
          const metrics = yield* Metrics.measure
          const second = SecondPass.make(config)
          let stopped = false
          let lost: GateUnavailable | undefined
          const taken = Intake.taken(inputs.length, options.onRequested)
          const streamed = outcomes(Stream.fromIterable(inputs), config, second, taken)
          const all = options.onOutcome === undefined ? streamed : Stream.tap(streamed, options.onOutcome)
          const reported: Array<Intake.Reported> = []
          const collect = Stream.runForEach(all, (one) =>
            Effect.sync(() => {
              reported.push(one)
              if (one.outcome.secondPass === true) second.settle(one.index)
            })).pipe(Effect.catchTag("GateUnavailable", (reason) => Effect.sync(() => void (lost = reason))))
          // the run stops early when asked to (the companies in flight are interrupted), or when the gate is lost
          yield* options.until === undefined
            ? collect
            : Effect.raceFirst(collect, Effect.tap(options.until, () => Effect.sync(() => void (stopped = true))))
          // stopped during the second pass: the first pass's outcomes still waiting for theirs are reported as they were
          for (const waiting of second.waiting()) reported.push(waiting)
          const ordered = reported.sort((a, b) => a.index - b.index).map((r) => r.outcome)
          return summarize(ordered, {
            config,
            elapsedMs: (yield* Clock.currentTimeMillis) - start,
            cacheSize: yield* cache.size,
            gate: yield* gate.stats,
            metrics: yield* metrics,
            origins,
            stopped,
            gateLost: lost?.message,
            requested: Intake.requested(taken)
          })
        }).pipe(Effect.withSpan("Aggregator.run"))

      return Aggregator.of({ stream, run })
    })
  )
}
