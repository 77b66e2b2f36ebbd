/**
 * The aggregator inside another Effect application: its own emissions
 * source (an in-memory table standing in for a vendor's feed), the other
 * sources simulated, a persistent score cache, and the index cache read
 * after the run.
 *
 * Run it with `npx tsx examples/embed.ts`.
 */
import { Effect, Layer } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { Aggregator, App, Domain, Emissions, IndexCache, ScoreStore } from "esg-aggregator"

/** Emissions from our own table: tonnes of CO2e by ticker. */
const OurEmissions = Layer.succeed(
  Emissions,
  Emissions.of({
    origin: "our emissions table",
    fetch: (ticker) => {
      const tonnes: Record<string, number> = { AAPL: 58_600, TSLA: 1_400_000 }
      const scope1 = tonnes[ticker]
      return scope1 === undefined
        ? Effect.fail(new Domain.SourceError({ source: "emissions", ticker, reason: "not in our table" }))
        : Effect.succeed(new Domain.EmissionData({ ticker, scope1Tco2e: scope1, scope2Tco2e: 0, uncertaintyPct: 10, reportingYear: 2024 }))
    }
  })
)

const program = Effect.gen(function*() {
  const aggregator = yield* Aggregator
  const report = yield* aggregator.run(["Apple", "Tesla", "Microsoft"])
  yield* Effect.log(`scored ${report.summary.scored} of ${report.summary.requested} in ${report.summary.elapsedMs} ms`)
  const cache = yield* IndexCache
  for (const entry of yield* cache.entries) {
    yield* Effect.log(`${entry.value.ticker}: ${entry.value.score.value.toFixed(2)} ${entry.value.score.rating}`)
  }
})

const Live = App.layer({
  config: { samples: 20_000, latency: { fundamentals: "10 millis", governance: "10 millis" } },
  emissions: OurEmissions,
  store: ScoreStore.layerSqlite(path.join(os.tmpdir(), "esg-example-scores.db"))
})

Effect.runPromise(Effect.provide(program, Live)).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
