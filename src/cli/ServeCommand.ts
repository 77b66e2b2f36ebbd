/**
 * `serve-providers`: the emissions and governance APIs served locally, with
 * optional fault injection, for trials and tests of the HTTP path.
 *
 * @since 0.2.0
 */
import { Command, Options } from "@effect/cli"
import { Config, Effect, Option } from "effect"
import { serve } from "../provider-server/ProviderServer.js"
import { ExitCode } from "./ExitCode.js"
import { latencyEmissions, latencyGovernance } from "./Flags.js"
import { Output } from "./Output.js"

const rate = (name: string, what: string) =>
  Options.float(`${name}-rate`).pipe(
    Options.withDefault(0),
    Options.filterMap((r) => (r >= 0 && r <= 1 ? Option.some(r) : Option.none()), `--${name}-rate: must be between 0 and 1`),
    Options.withDescription(`Share of requests answered with ${what}`)
  )

export const serveCommand = Command.make(
  "serve-providers",
  {
    host: Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("Address to bind")),
    port: Options.integer("port").pipe(
      Options.withDefault(8787),
      Options.filterMap((p) => (p >= 0 && p <= 65535 ? Option.some(p) : Option.none()), "--port: must be 0..65535"),
      Options.withDescription("Port to listen on; 0 picks a free one (printed)")
    ),
    latencyEmissions,
    latencyGovernance,
    apiKey: Options.redacted("api-key").pipe(
      Options.withFallbackConfig(Config.redacted("ESG_PROVIDER_API_KEY")),
      Options.optional,
      Options.withDescription("Require this bearer token on data routes (env ESG_PROVIDER_API_KEY)")
    ),
    errorRate: rate("error", "503 Service Unavailable"),
    throttleRate: rate("throttle", "429 Too Many Requests with Retry-After"),
    malformedRate: rate("malformed", "a body that breaks the schema"),
    hangRate: rate("hang", "no answer at all"),
    seed: Options.integer("seed").pipe(Options.withDefault(1), Options.withDescription("Seed of the fault injection"))
  },
  (options) =>
    Effect.gen(function*() {
      const output = yield* Output
      const total = options.errorRate + options.throttleRate + options.malformedRate + options.hangRate
      if (total > 1) {
        yield* output.stderr(`esg-aggregator serve-providers: the fault rates add up to ${total}, more than 1`)
        return ExitCode.usage
      }
      return yield* serve(options, (url) => output.stdout(`listening on ${url}`)).pipe(
        Effect.catchAll((error) =>
          Effect.as(output.stderr(`esg-aggregator serve-providers: cannot listen: ${error.message}`), ExitCode.unavailable)
        )
      )
    })
).pipe(Command.withDescription("Serves the emissions and governance APIs locally, with optional fault injection"))
