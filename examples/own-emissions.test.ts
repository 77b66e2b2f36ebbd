/**
 * A user's pipeline tested in virtual time, written against the package's
 * public surface only (`esg-aggregator` and `esg-aggregator/testing`): the
 * aggregator with our own emissions feed in place of the simulated one,
 * every request and arrival recorded, and the facts read off the record.
 *
 * Runs with the project's tests (`npm test`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, TestClock } from "effect"
import { Aggregator, Domain, Emissions } from "esg-aggregator"
import { companyWindows, Evidence, makeLogCapture, makespan, maxCallsInFlight, testApp } from "esg-aggregator/testing"

/** Our feed: tonnes of CO2e by ticker, answering after 1.2 s, or after `slow` for the tickers it names. */
const ourEmissions = (slow: Record<string, Duration.DurationInput> = {}) => {
  const tonnes: Record<string, readonly [number, number]> = {
    AAPL: [55_200, 3_400],
    MSFT: [144_960, 393_134],
    META: [67_000, 1_000],
    AMZN: [14_000_000, 2_800_000],
    TSLA: [230_000, 1_000_000]
  }
  return Layer.succeed(
    Emissions,
    Emissions.of({
      origin: "our emissions feed",
      fetch: (ticker) =>
        Effect.zipRight(
          Effect.sleep(slow[ticker] ?? "1.2 seconds"),
          Effect.suspend(() => {
            const row = tonnes[ticker]
            return row === undefined
              ? Effect.fail(new Domain.SourceError({ source: "emissions", ticker, reason: "not in our feed" }))
              : Effect.succeed(
                new Domain.EmissionData({ ticker, scope1Tco2e: row[0], scope2Tco2e: row[1], uncertaintyPct: 5, reportingYear: 2024 })
              )
          })
        )
    })
  )
}

const seed = ["Apple", "Microsoft", "Meta", "Amazon", "Tesla"]

/** Forks the run, moves virtual time past its end, joins: the TestClock pattern. */
const runSeed = Effect.gen(function*() {
  const aggregator = yield* Aggregator
  const fiber = yield* Effect.fork(aggregator.run(seed))
  yield* TestClock.adjust("20 seconds")
  return yield* Fiber.join(fiber)
})

describe("a pipeline with our own emissions feed", () => {
  it.effect("five companies in exactly 5.6 s, never more than 2 calls in flight", () =>
    Effect.gen(function*() {
      const report = yield* runSeed
      const events = yield* Effect.flatMap(Evidence, (evidence) => evidence.events)
      assert.strictEqual(report.summary.scored, 5)
      assert.strictEqual(report.summary.elapsedMs, 5600)
      assert.strictEqual(makespan(events), 5600)
      assert.strictEqual(maxCallsInFlight(events), 2)
    }).pipe(Effect.provide(testApp({ sources: { emissions: ourEmissions() } }))))

  it.effect("a company whose feed is too slow is skipped at its 2 s deadline, the others scored", () =>
    Effect.gen(function*() {
      const logs = yield* makeLogCapture
      const report = yield* runSeed.pipe(Effect.provide(logs.layer))
      const skipped = report.outcomes.filter((outcome) => outcome._tag === "Skipped")
      assert.deepStrictEqual(skipped.map((outcome): string | null => outcome.ticker), ["MSFT"])
      const incomplete = (yield* logs.entries).filter((entry) => entry.message === Domain.DATA_INCOMPLETE)
      // Microsoft's first request went out at 1.0 s (when Apple's governance call gave its permit back)
      assert.deepStrictEqual(incomplete.map((entry) => [entry.annotations["ticker"], entry.at]), [["MSFT", 3000]])
      assert.strictEqual(report.summary.scored, 4)
    }).pipe(Effect.provide(testApp({ sources: { emissions: ourEmissions({ MSFT: "3 seconds" }) } }))))

  it.effect("every scored company's data arrives within the deadline of its first request", () =>
    Effect.gen(function*() {
      const report = yield* runSeed
      const windows = companyWindows(yield* Effect.flatMap(Evidence, (evidence) => evidence.events))
      const scored = report.outcomes.filter((outcome) => outcome._tag === "Scored")
      assert.strictEqual(scored.length, 5)
      for (const outcome of scored) {
        const window = windows.get(outcome.ticker)!
        assert.isAtMost(window.lastArrival! - window.firstRequest, 2000, outcome.ticker)
      }
    }).pipe(Effect.provide(testApp({ sources: { emissions: ourEmissions() } }))))
})
