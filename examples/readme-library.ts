import { Effect, Layer, Stream } from "effect"
import { Aggregator, App, Domain, Emissions } from "esg-aggregator"

// your own source: any layer of the service
const OurEmissions = Layer.succeed(Emissions, Emissions.of({
  origin: "our emissions table",
  fetch: (ticker) => Effect.fail(new Domain.SourceError({ source: "emissions", ticker, reason: "not in our table" }))
}))

// the scenario's defaults over the sample universe; pass a layer to swap a part
const Live = App.layer({ config: { permits: 2, timeout: "2 seconds" }, emissions: OurEmissions })

// outcomes one by one, as each company completes
const outcomes = Effect.flatMap(Aggregator, (aggregator) =>
  Stream.runForEach(aggregator.stream(Stream.make("Apple", "Tesla")), ({ index, outcome }) =>
    Effect.log(`${index} ${outcome.input}: ${outcome._tag}`)))

Effect.runPromise(Effect.provide(outcomes, Live))
