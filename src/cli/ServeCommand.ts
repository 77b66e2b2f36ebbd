/**
 * `serve-providers`: the emissions and governance APIs served locally, with
 * optional fault injection, for trials and tests of the HTTP path.
 *
 * @since 0.2.0
 */
import { Command, Options } from "@effect/cli"
import type { ServeError } from "@effect/platform/HttpServerError"
import { Config, Context, Effect, Either, Layer, Option } from "effect"
import * as path from "node:path"
import { sampleUniverse } from "../universe/SampleUniverse.js"
import { Universe } from "../universe/Universe.js"
import { ExitCode } from "./ExitCode.js"
import { docsOf, flag, latencyEmissions, latencyGovernance, optionsOf } from "./Flags.js"
import { Output } from "./Output.js"
import { untilShutdown } from "./Shutdown.js"

const rate = (name: string, what: string) =>
  flag(
    { usage: `--${name}-rate R`, description: `share of requests answered with ${what}, 0 to 1`, fallback: "0" },
    Options.float(`${name}-rate`).pipe(
      Options.withDefault(0),
      Options.filterMap((r) => (r >= 0 && r <= 1 ? Option.some(r) : Option.none()), `--${name}-rate: must be between 0 and 1`)
    )
  )

export const serveFlagSet = {
  host: flag(
    { usage: "--host ADDRESS", description: "address to bind", fallback: "127.0.0.1" },
    Options.text("host").pipe(Options.withDefault("127.0.0.1"))
  ),
  port: flag(
    { usage: "--port N", description: "port to listen on, 0 to 65535; 0 picks a free one (printed)", fallback: "8787" },
    Options.integer("port").pipe(
      Options.withDefault(8787),
      Options.filterMap((p) => (p >= 0 && p <= 65535 ? Option.some(p) : Option.none()), "--port: must be 0..65535")
    )
  ),
  latencyEmissions,
  latencyGovernance,
  apiKey: flag(
    { usage: "--api-key KEY", description: "require this bearer token on the data routes", fallback: "none", env: "ESG_PROVIDER_API_KEY" },
    Options.redacted("api-key").pipe(Options.withFallbackConfig(Config.redacted("ESG_PROVIDER_API_KEY")), Options.optional)
  ),
  errorRate: rate("error", "503 Service Unavailable"),
  throttleRate: rate("throttle", "429 Too Many Requests with Retry-After"),
  malformedRate: rate("malformed", "a body that breaks the schema"),
  hangRate: rate("hang", "no answer at all"),
  seed: flag(
    { usage: "--seed N", description: "seed of the fault injection", fallback: "1" },
    Options.integer("seed").pipe(Options.withDefault(1))
  ),
  db: flag(
    { usage: "--db PATH", description: "serve the companies of this universe database", fallback: "the sample universe" },
    Options.text("db").pipe(Options.optional)
  )
}

export const serveFlagDocs = docsOf(serveFlagSet)

/** Why the server could not listen, in the operating system's words (`listen EADDRINUSE: …`). */
export const listenFailure = (error: ServeError): string => {
  const cause: unknown = error.cause
  if (cause instanceof Error && cause.message !== "") return cause.message
  return error.message !== "" ? error.message : String(cause)
}

export const serveCommand = Command.make(
  "serve-providers",
  optionsOf(serveFlagSet),
  (options) =>
    Effect.gen(function*() {
      const output = yield* Output
      const total = options.errorRate + options.throttleRate + options.malformedRate + options.hangRate
      if (total > 1) {
        yield* output.stderr(`esg-aggregator serve-providers: the fault rates add up to ${total}, more than 1`)
        return ExitCode.usage
      }
      // the universe database stays open while the server answers from it
      return yield* Effect.scoped(Effect.gen(function*() {
        const universe = yield* Option.match(options.db, {
          onNone: () => Effect.sync(() => Universe.fromRecords(sampleUniverse())),
          onSome: (file) => Effect.map(Layer.build(Universe.layerFromDatabase(path.resolve(file))), Context.get(Universe))
        }).pipe(Effect.either)
        if (Either.isLeft(universe)) {
          yield* output.stderr(`esg-aggregator serve-providers: ${universe.left.reason}`)
          return ExitCode.unavailable
        }
        // the server's code (an HTTP server, a router) is loaded only by this command
        const { serve } = yield* Effect.promise(() => import("../provider-server/ProviderServer.js"))
        return yield* untilShutdown(serve({ ...options, universe: universe.right }, (url) => output.stdout(`listening on ${url}`)))
          .pipe(
            Effect.catchAll((error) =>
              Effect.as(
                output.stderr(
                  `esg-aggregator serve-providers: cannot listen on ${options.host}:${options.port}: ${listenFailure(error)}`
                ),
                ExitCode.unavailable
              )
            )
          )
      }))
    })
).pipe(Command.withDescription("Serves the emissions and governance APIs locally, with optional fault injection"))
