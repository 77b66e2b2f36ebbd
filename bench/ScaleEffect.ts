/**
 * The Effect side of the scale rows: the real application (`App.layer`) over
 * a synthetic universe, with zero-latency simulated sources and a trivial
 * scorer, built once. Each pass streams every ticker through
 * `Aggregator.stream` and consumes the outcomes one at a time, so the warm
 * pass meets the cache the cold pass filled.
 */
import { Effect, Layer, ManagedRuntime, Schema, Stream } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import * as App from "../src/App.js"
import { CompanyRecord, PillarWeights, Score, ScoreInterval } from "../src/Domain.js"
import { ScoreEngine } from "../src/ScoreEngine.js"
import { syntheticRecords } from "./ScaleData.js"

/** A scorer that costs nothing: one valid score, built once, for every company. */
const trivialScorer = Layer.sync(ScoreEngine, () => {
  const score = Effect.succeed(
    new Score({
      value: 5,
      rating: "BBB",
      environmental: 5,
      governance: 5,
      weights: new PillarWeights({ environmental: 0.5, governance: 0.5 }),
      weightedAverage: 5,
      interval: new ScoreInterval({ low: 4, high: 6 }),
      stability: 1,
      samples: 0
    })
  )
  return ScoreEngine.of({ origin: "constant (bench)", score: () => score })
})

/** Builds the application for `n` companies; resolves to one pass, which resolves to the number scored. */
export const prepare = async (n: number): Promise<() => Promise<number>> => {
  // the fields are the records' stored form, as a CSV file holds them
  const decode = Schema.decodeSync(CompanyRecord)
  const records = syntheticRecords(n).map((fields) => decode(fields))
  const tickers = records.map((record) => record.ticker)
  const runtime = ManagedRuntime.make(App.layer({
    records,
    scorer: trivialScorer,
    config: { latency: { fundamentals: 0, emissions: 0, governance: 0 } }
  }))
  const pass = Effect.flatMap(Aggregator, (aggregator) =>
    aggregator.stream(Stream.fromIterable(tickers)).pipe(
      Stream.runFold(0, (scored, reported) => reported.outcome._tag === "Scored" ? scored + 1 : scored)
    ))
  // the layer is built here, outside the timed passes
  await runtime.runtime()
  return () => runtime.runPromise(pass)
}
