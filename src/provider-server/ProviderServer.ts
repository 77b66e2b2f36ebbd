/**
 * The local HTTP provider: the external emissions and governance APIs served
 * from a universe of company records, for demos (`serve-providers`) and for
 * tests of the HTTP source layers against real sockets. Injected faults
 * are seeded per `(route, ticker, attempt)`, so that a pair's requests meet
 * the same faults whatever else is in flight.
 *
 * The routes and faults: docs/design.md#srcprovider-serverproviderserverts
 *
 * @since 0.1.0
 */
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Chunk, Clock, Context, Duration, Effect, HashMap, Layer, Option, Redacted, Ref, Schema, type Scope } from "effect"
import * as crypto from "node:crypto"
import * as http from "node:http"
import type { ExternalSource } from "../Domain.js"
import { type CompanyRecord, EmissionData, GovernanceRating, type Ticker } from "../Domain.js"
import { toEmissionData } from "../Emissions.js"
import { toGovernanceRating } from "../Governance.js"
import { hashString, mulberry32 } from "../internal/Prng.js"
import { Scenario } from "../Scenario.js"
import { universeOf, type UniverseSource } from "../universe/Universe.js"
import { durationText } from "../internal/DurationText.js"

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/**
 * The probability of each injected fault, each in [0, 1]; tried in this order on one uniform draw.
 *
 * @since 0.1.0
 */
export interface FaultRates {
  /** 503 `{"error":"unavailable"}`, at once. Default 0. */
  readonly errorRate?: number | undefined
  /** 429 with `Retry-After`, at once. Default 0. */
  readonly throttleRate?: number | undefined
  /** 200 after the latency with a body that fails the schema. Default 0. */
  readonly malformedRate?: number | undefined
  /** No answer at all, until the client disconnects. Default 0. */
  readonly hangRate?: number | undefined
}

/**
 * The companies served: a `universe`, or `records` (default the sample universe).
 *
 * @since 0.1.0
 */
export interface ProviderServerOptions extends FaultRates, UniverseSource {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Port to listen on; 0 (the default) picks a free one, see `url`. */
  readonly port?: number | undefined
  /** Default 1.2 s, as in the scenario. */
  readonly latencyEmissions?: Duration.DurationInput | undefined
  /** Default 1.0 s, as in the scenario. */
  readonly latencyGovernance?: Duration.DurationInput | undefined
  /** When set, every data route requires `Authorization: Bearer <key>`. */
  readonly apiKey?: Redacted.Redacted | Option.Option<Redacted.Redacted> | undefined
  /** Seed of the fault draws. Default 0. */
  readonly seed?: number | undefined
  /** The `Retry-After` of a 429, whole seconds. Default 1. */
  readonly retryAfterSeconds?: number | undefined
}

// ---------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------

/**
 * What `GET /stats` returns.
 *
 * @since 0.1.0
 */
export const ProviderStats = Schema.Struct({
  /** Data-route requests received (every status, hung ones included). */
  requests: Schema.Number,
  /** Data-route requests open right now. */
  inFlight: Schema.Number,
  /** The most data-route requests ever open at once. */
  maxConcurrent: Schema.Number,
  /** Answers sent, by HTTP status (`"200"`, `"401"`, `"404"`, `"429"`, `"503"`). */
  byStatus: Schema.Record({ key: Schema.String, value: Schema.Number }),
  /** Data-route requests received, by route. */
  byRoute: Schema.Struct({ emissions: Schema.Number, governance: Schema.Number }),
  /** Requests that were made to hang. */
  hung: Schema.Number,
  /** 200 answers that carried a malformed body (also counted under `"200"`). */
  malformed: Schema.Number
})
/**
 * A decoded `ProviderStats`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type ProviderStats = typeof ProviderStats.Type

const emptyStats = (inFlight: number): ProviderStats => ({
  requests: 0,
  inFlight,
  maxConcurrent: inFlight,
  byStatus: {},
  byRoute: { emissions: 0, governance: 0 },
  hung: 0,
  malformed: 0
})

// ---------------------------------------------------------------------------
// Fault decisions
// ---------------------------------------------------------------------------

/**
 * What a request meets: `none`, `error` (503), `throttle` (429), `malformed` (200 with a bad body) or `hang` (no answer).
 *
 * @since 0.1.0
 */
export type Fault = "none" | "error" | "throttle" | "malformed" | "hang"

/**
 * One request a fault was injected into, as `GET /faults` lists it.
 *
 * @since 0.1.0
 */
export const InjectedFault = Schema.Struct({
  ticker: Schema.String,
  source: Schema.Literal("emissions", "governance"),
  fault: Schema.Literal("error", "throttle", "malformed", "hang"),
  /** When the request came in (epoch milliseconds). */
  at: Schema.Number
})
/**
 * A decoded `InjectedFault`: the type of the schema of the same name.
 *
 * @since 0.1.0
 */
export type InjectedFault = typeof InjectedFault.Type

/**
 * The most faulted requests the server records; beyond them, `GET /faults` says how many it left out.
 *
 * @since 0.1.0
 */
export const MAX_RECORDED_FAULTS = 1_000_000

/** The seeded generator for one request: `attempt` is 1 for the pair's first request. */
const drawsFor = (seed: number, route: ExternalSource, ticker: string, attempt: number): () => number =>
  mulberry32(hashString(`${seed}:${route}:${ticker}:${attempt}`))

const faultOf = (rates: FaultRates, u: number): Fault => {
  let threshold = 0
  for (const [fault, rate] of faultOrder(rates)) {
    threshold += rate
    if (u < threshold) return fault
  }
  return "none"
}

const faultOrder = (rates: FaultRates): ReadonlyArray<readonly [Fault, number]> => [
  ["error", rates.errorRate ?? 0],
  ["throttle", rates.throttleRate ?? 0],
  ["malformed", rates.malformedRate ?? 0],
  ["hang", rates.hangRate ?? 0]
]

/**
 * The fault the server injects into the `attempt`-th request (1-based) for
 * `(route, ticker)`: a pure function of the seed and the rates, so tests and
 * demos can predict it.
 *
 * @since 0.1.0
 */
export const decideFault = (
  options: FaultRates & { readonly seed?: number | undefined },
  route: ExternalSource,
  ticker: string,
  attempt: number
): Fault => faultOf(options, drawsFor(options.seed ?? 0, route, ticker, attempt)())

/** Three ways a body can break the schema, picked by the request's second draw. */
const malformedBody = (route: ExternalSource, body: Record<string, unknown>, u: number): Record<string, unknown> => {
  const variant = Math.floor(u * 3)
  if (route === "emissions") {
    if (variant === 0) return { ...body, scope1Tco2e: "lots" }
    if (variant === 1) return { ticker: body.ticker, scope2Tco2e: body.scope2Tco2e }
    return { ...body, reportingYear: 1850 }
  }
  if (variant === 0) return { ...body, score: "excellent" }
  if (variant === 1) return { ticker: body.ticker, score: body.score }
  return { ...body, score: 42 }
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/**
 * A running provider server: its URL, its counters and their reset, and the requests it injected faults into.
 *
 * @since 0.1.0
 */
export interface ProviderServerService {
  /** `http://host:port`, with the real port when 0 was asked for. */
  readonly url: string
  readonly stats: Effect.Effect<ProviderStats>
  /** Same as `POST /stats/reset`. */
  readonly resetStats: Effect.Effect<void>
  /** Every request a fault was injected into, in the order they came (`GET /faults`). */
  readonly faults: Effect.Effect<ReadonlyArray<InjectedFault>>
}

const checkRate = (name: string, rate: number | undefined) =>
  rate === undefined || (rate >= 0 && rate <= 1) ? [] : [`${name} must be in [0, 1], got ${rate}`]

/** Invalid options are the caller's bug (the CLI validates its flags), hence defects. */
const validate = (options: ProviderServerOptions): Effect.Effect<void> => {
  const problems = [
    ...checkRate("errorRate", options.errorRate),
    ...checkRate("throttleRate", options.throttleRate),
    ...checkRate("malformedRate", options.malformedRate),
    ...checkRate("hangRate", options.hangRate),
    ...(options.port === undefined || (Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)
      ? []
      : [`port must be a whole number in [0, 65535], got ${options.port}`]),
    ...(options.retryAfterSeconds === undefined ||
        (Number.isInteger(options.retryAfterSeconds) && options.retryAfterSeconds >= 0)
      ? []
      : [`retryAfterSeconds must be a whole number of at least 0, got ${options.retryAfterSeconds}`])
  ]
  return problems.length === 0 ? Effect.void : Effect.dieMessage(`ProviderServer: ${problems.join("; ")}`)
}

const apiKeyOf = (apiKey: ProviderServerOptions["apiKey"]): Option.Option<Redacted.Redacted> =>
  apiKey === undefined ? Option.none() : Option.isOption(apiKey) ? apiKey : Option.some(apiKey)

// Hashing both sides first makes the comparison constant-time whatever the lengths.
const digest = (text: string) => crypto.createHash("sha256").update(text, "utf8").digest()

const authorized = (expected: Buffer, header: string | undefined): boolean => {
  const match = /^Bearer[ \t]+(.+)$/i.exec(header ?? "")
  return crypto.timingSafeEqual(digest(match?.[1]?.trim() ?? ""), expected) && match !== null
}

const formatUrl = (address: HttpServer.Address): string =>
  address._tag === "UnixAddress"
    ? `unix://${address.path}`
    : `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`

const json = (status: number, body: unknown, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson(body, headers === undefined ? { status } : { status, headers })

/**
 * Starts a provider server in the current scope: listening when this
 * returns, stopped (every connection closed, hung requests included) when
 * the scope closes.
 */
const make = (options: ProviderServerOptions): Effect.Effect<ProviderServerService, ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* validate(options)
    const host = options.host ?? "127.0.0.1"
    const seed = options.seed ?? 0
    const retryAfter = String(options.retryAfterSeconds ?? 1)
    const universe = universeOf(options, "ProviderServer")
    const latency: Record<ExternalSource, Duration.Duration> = {
      emissions: Duration.decode(options.latencyEmissions ?? Scenario.latency.emissions),
      governance: Duration.decode(options.latencyGovernance ?? Scenario.latency.governance)
    }
    const expectedKey = Option.map(apiKeyOf(options.apiKey), (key) => digest(Redacted.value(key)))

    const stats = yield* Ref.make(emptyStats(0))
    const attempts = yield* Ref.make(HashMap.empty<string, number>())
    const noFaults = { faults: Chunk.empty<InjectedFault>(), leftOut: 0 }
    const injected = yield* Ref.make(noFaults)
    const recordFault = (entry: InjectedFault) =>
      Ref.update(injected, (r) =>
        Chunk.size(r.faults) >= MAX_RECORDED_FAULTS
          ? { ...r, leftOut: r.leftOut + 1 }
          : { ...r, faults: Chunk.append(r.faults, entry) })
    const reset = Effect.all([
      Ref.update(stats, (s) => emptyStats(s.inFlight)),
      Ref.set(attempts, HashMap.empty<string, number>()),
      Ref.set(injected, noFaults)
    ], { discard: true })

    const count = (f: (s: ProviderStats) => Partial<ProviderStats>) => Ref.update(stats, (s) => ({ ...s, ...f(s) }))
    const enter = (route: ExternalSource) =>
      count((s) => ({
        requests: s.requests + 1,
        inFlight: s.inFlight + 1,
        maxConcurrent: Math.max(s.maxConcurrent, s.inFlight + 1),
        byRoute: { ...s.byRoute, [route]: s.byRoute[route] + 1 }
      }))
    const leave = count((s) => ({ inFlight: s.inFlight - 1 }))
    const respond = (status: number, body: unknown, headers?: Record<string, string>) =>
      Effect.as(
        count((s) => ({ byStatus: { ...s.byStatus, [status]: (s.byStatus[status] ?? 0) + 1 } })),
        json(status, body, headers)
      )
    const nextAttempt = (route: ExternalSource, ticker: Ticker) =>
      Ref.modify(attempts, (m) => {
        const key = `${route}:${ticker}`
        const attempt = Option.getOrElse(HashMap.get(m, key), () => 0) + 1
        return [attempt, HashMap.set(m, key, attempt)] as const
      })

    const encode = (route: ExternalSource, record: CompanyRecord): Record<string, unknown> =>
      route === "emissions"
        ? { ...Schema.encodeSync(EmissionData)(toEmissionData(record)) }
        : { ...Schema.encodeSync(GovernanceRating)(toGovernanceRating(record)) }

    const answer = (route: ExternalSource) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        if (Option.isSome(expectedKey) && !authorized(expectedKey.value, request.headers["authorization"])) {
          return yield* respond(401, { error: "unauthorized" }, { "www-authenticate": "Bearer" })
        }
        const { ticker = "" } = yield* HttpRouter.params
        const found = universe.record(ticker as Ticker)
        if (Option.isNone(found)) {
          yield* Effect.sleep(latency[route])
          return yield* respond(404, { error: "unknown ticker" })
        }
        const record = found.value
        const attempt = yield* nextAttempt(route, record.ticker)
        const draw = drawsFor(seed, route, record.ticker, attempt)
        const fault = faultOf(options, draw())
        yield* Effect.logDebug("provider request").pipe(
          Effect.annotateLogs({ route, ticker: record.ticker, attempt, fault })
        )
        if (fault !== "none") {
          yield* recordFault({ ticker: record.ticker, source: route, fault, at: yield* Clock.currentTimeMillis })
        }
        switch (fault) {
          case "error":
            return yield* respond(503, { error: "unavailable" })
          case "throttle":
            return yield* respond(429, { error: "too many requests" }, { "retry-after": retryAfter })
          case "hang":
            yield* count((s) => ({ hung: s.hung + 1 }))
            return yield* Effect.never
          case "malformed":
            yield* Effect.sleep(latency[route])
            yield* count((s) => ({ malformed: s.malformed + 1 }))
            return yield* respond(200, malformedBody(route, encode(route, record), draw()))
          case "none":
            yield* Effect.sleep(latency[route])
            return yield* respond(200, encode(route, record))
        }
      }).pipe(
        // released in a finalizer, so a request interrupted by its client's disconnect leaves the count
        (handler) => Effect.acquireUseRelease(enter(route), () => handler, () => leave)
      )

    const router = HttpRouter.empty.pipe(
      HttpRouter.get("/emissions/:ticker", answer("emissions")),
      HttpRouter.get("/governance/:ticker", answer("governance")),
      HttpRouter.get("/stats", Effect.map(Ref.get(stats), (s) => json(200, s))),
      HttpRouter.get(
        "/faults",
        Effect.map(Ref.get(injected), ({ faults, leftOut }) =>
          json(200, Chunk.toReadonlyArray(faults), leftOut === 0 ? undefined : { "faults-left-out": String(leftOut) }))
      ),
      HttpRouter.post("/stats/reset", Effect.zipRight(reset, Effect.map(Ref.get(stats), (s) => json(200, s))))
    )
    const app = Effect.catchTag(router, "RouteNotFound", () => Effect.succeed(json(404, { error: "not found" })))

    const nodeServer = http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { host, port: options.port ?? 0 })
    // Runs before NodeHttpServer's own release (finalizers run in reverse), whose
    // `server.close` would otherwise wait forever for hung requests' connections.
    // Destroying the sockets also interrupts their handler fibers (client abort).
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        nodeServer.close(() => resume(Effect.void))
        nodeServer.closeAllConnections()
      })
    )
    yield* HttpServer.serveEffect(app).pipe(Effect.provideService(HttpServer.HttpServer, server))

    const url = formatUrl(server.address)
    yield* Effect.logInfo(`provider server listening on ${url}`).pipe(
      Effect.annotateLogs({
        latencyEmissions: durationText(latency.emissions),
        latencyGovernance: durationText(latency.governance),
        companies: universe.size,
        auth: Option.isSome(expectedKey) ? "bearer" : "none",
        errorRate: options.errorRate ?? 0,
        throttleRate: options.throttleRate ?? 0,
        malformedRate: options.malformedRate ?? 0,
        hangRate: options.hangRate ?? 0,
        seed
      })
    )
    return {
      url,
      stats: Ref.get(stats),
      resetStats: reset,
      faults: Effect.map(Ref.get(injected), ({ faults }) => Chunk.toReadonlyArray(faults))
    }
  })

/**
 * The local HTTP provider as a service: `make` starts one in a scope, `layer` as a layer.
 *
 * @since 0.1.0
 */
export class ProviderServer extends Context.Tag("esg-aggregator/ProviderServer")<
  ProviderServer,
  ProviderServerService
>() {
  /**
   * Starts a server in the current scope: listening when it returns, stopped (hung requests' connections closed too) when the scope closes.
   *
   * @since 0.1.0
   */
  static readonly make = make

  /**
   * The server, listening once the layer is built and stopped when its scope closes.
   *
   * @since 0.1.0
   */
  static readonly layer = (options: ProviderServerOptions = {}): Layer.Layer<ProviderServer, ServeError> =>
    Layer.scoped(ProviderServer, make(options))
}

/**
 * Runs a provider server until interrupted, for the `serve-providers`
 * command: `onListening` gets the URL once the server accepts connections.
 *
 * @since 0.1.0
 */
export const serve = <E = never, R = never>(
  options: ProviderServerOptions,
  onListening: (url: string) => Effect.Effect<void, E, R> = () => Effect.void
): Effect.Effect<never, ServeError | E, R> =>
  Effect.scoped(
    Effect.gen(function*() {
      const server = yield* make(options)
      yield* onListening(server.url)
      return yield* Effect.never
    })
  )
