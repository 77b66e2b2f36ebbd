import { assert, describe, it } from "@effect/vitest"
import { Data, Deferred, Effect, Either, Fiber, Redacted, Schema } from "effect"
import { EmissionData, GovernanceRating } from "../src/Domain.js"
import { toEmissionData } from "../src/Emissions.js"
import { toGovernanceRating } from "../src/Governance.js"
import {
  decideFault,
  InjectedFault,
  ProviderServer,
  type ProviderServerOptions,
  type ProviderServerService,
  ProviderStats,
  serve
} from "../src/provider-server/ProviderServer.js"
import { sampleUniverse } from "../src/universe/SampleUniverse.js"

const records = sampleUniverse().slice(0, 10)
const tickers = records.map((record) => record.ticker)
const aapl = records[0]!

class FetchFailed extends Data.TaggedError("FetchFailed")<{ readonly cause: unknown }> {}

interface Answer {
  readonly status: number
  readonly retryAfter: string | null
  readonly body: unknown
}

/** One request with Node's fetch; interrupting the effect aborts it through its AbortController. */
const request = (url: string, init: { readonly method?: string; readonly headers?: Record<string, string> } = {}) =>
  Effect.tryPromise({
    try: async (signal): Promise<Answer> => {
      const response = await fetch(url, { ...init, signal })
      const body: unknown = await response.json()
      return { status: response.status, retryAfter: response.headers.get("retry-after"), body }
    },
    catch: (cause) => new FetchFailed({ cause })
  })

/** Runs `f` against a server started through `ProviderServer.layer`, stopped when `f` ends. */
const withServer = <A, E>(options: ProviderServerOptions, f: (server: ProviderServerService) => Effect.Effect<A, E>) =>
  Effect.flatMap(ProviderServer, f).pipe(
    Effect.provide(ProviderServer.layer({ records, latencyEmissions: "5 millis", latencyGovernance: "5 millis", ...options }))
  )

const statsOverHttp = (server: ProviderServerService) =>
  Effect.flatMap(request(`${server.url}/stats`), (answer) => Schema.decodeUnknown(ProviderStats)(answer.body))

/** Polls `/stats` until `predicate` holds (the timeout only turns a failure into an error instead of a hang). */
const eventually = (server: ProviderServerService, predicate: (stats: ProviderStats) => boolean) =>
  statsOverHttp(server).pipe(
    Effect.delay("10 millis"),
    Effect.repeat({ until: predicate }),
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "stats never matched" })
  )

describe("ProviderServer", () => {
  it.live("serves the encoded emissions and governance data, 404 for an unknown ticker", () =>
    withServer({}, (server) =>
      Effect.gen(function*() {
        assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.notStrictEqual(server.url, "http://127.0.0.1:0")

        const emissions = yield* request(`${server.url}/emissions/AAPL`)
        assert.strictEqual(emissions.status, 200)
        assert.deepStrictEqual(emissions.body, Schema.encodeSync(EmissionData)(toEmissionData(aapl)))

        const governance = yield* request(`${server.url}/governance/AAPL`)
        assert.strictEqual(governance.status, 200)
        assert.deepStrictEqual(governance.body, Schema.encodeSync(GovernanceRating)(toGovernanceRating(aapl)))

        const unknown = yield* request(`${server.url}/emissions/NOPE`)
        assert.deepStrictEqual([unknown.status, unknown.body], [404, { error: "unknown ticker" }])
        const lowerCase = yield* request(`${server.url}/governance/aapl`)
        assert.strictEqual(lowerCase.status, 404)
        const noRoute = yield* request(`${server.url}/fundamentals/AAPL`)
        assert.deepStrictEqual([noRoute.status, noRoute.body], [404, { error: "not found" }])

        const stats = yield* server.stats
        assert.deepStrictEqual(stats.byStatus, { "200": 2, "404": 2 })
        assert.deepStrictEqual(stats.byRoute, { emissions: 2, governance: 2 })
        assert.strictEqual(stats.requests, 4)
      })))

  it.live("with an API key, data routes need the bearer token; /stats does not", () =>
    withServer({ apiKey: Redacted.make("s3cret") }, (server) =>
      Effect.gen(function*() {
        const url = `${server.url}/emissions/AAPL`
        const none = yield* request(url)
        assert.deepStrictEqual([none.status, none.body], [401, { error: "unauthorized" }])
        const wrong = yield* request(url, { headers: { authorization: "Bearer s3cret!" } })
        assert.deepStrictEqual([wrong.status, wrong.body], [401, { error: "unauthorized" }])
        const notBearer = yield* request(url, { headers: { authorization: "Basic s3cret" } })
        assert.strictEqual(notBearer.status, 401)
        const right = yield* request(url, { headers: { authorization: "Bearer s3cret" } })
        assert.deepStrictEqual([right.status, right.body], [200, Schema.encodeSync(EmissionData)(toEmissionData(aapl))])

        const stats = yield* statsOverHttp(server)
        assert.deepStrictEqual(stats.byStatus, { "200": 1, "401": 3 })
        assert.strictEqual(stats.requests, 4)
      })))

  it.live("counts requests and the most in flight at once", () =>
    withServer({ latencyEmissions: "50 millis", latencyGovernance: "50 millis" }, (server) =>
      Effect.gen(function*() {
        const answers = yield* Effect.forEach(
          tickers,
          (ticker, i) => request(`${server.url}/${i % 2 === 0 ? "emissions" : "governance"}/${ticker}`),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(answers.map((answer) => answer.status), Array(10).fill(200))
        const stats = yield* statsOverHttp(server)
        assert.deepStrictEqual(stats, {
          requests: 10,
          inFlight: 0,
          maxConcurrent: 10,
          byStatus: { "200": 10 },
          byRoute: { emissions: 5, governance: 5 },
          hung: 0,
          malformed: 0
        })
        assert.deepStrictEqual(yield* server.stats, stats)

        const reset = yield* request(`${server.url}/stats/reset`, { method: "POST" })
        assert.strictEqual(reset.status, 200)
        assert.deepStrictEqual((yield* server.stats).requests, 0)
      })))

  it.live("errorRate 1 answers 503", () =>
    withServer({ errorRate: 1 }, (server) =>
      Effect.gen(function*() {
        const answer = yield* request(`${server.url}/governance/AAPL`)
        assert.deepStrictEqual([answer.status, answer.body], [503, { error: "unavailable" }])
      })))

  it.live("throttleRate 1 answers 429 with Retry-After", () =>
    Effect.gen(function*() {
      const answer = yield* withServer({ throttleRate: 1 }, (server) => request(`${server.url}/emissions/AAPL`))
      assert.deepStrictEqual([answer.status, answer.retryAfter], [429, "1"])
      const longer = yield* withServer(
        { throttleRate: 1, retryAfterSeconds: 7 },
        (server) => request(`${server.url}/emissions/AAPL`)
      )
      assert.deepStrictEqual([longer.status, longer.retryAfter], [429, "7"])
    }))

  it.live("malformedRate 1 answers 200 with bodies that fail the schemas", () =>
    withServer({ malformedRate: 1 }, (server) =>
      Effect.gen(function*() {
        for (const ticker of tickers) {
          const emissions = yield* request(`${server.url}/emissions/${ticker}`)
          assert.strictEqual(emissions.status, 200)
          assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(EmissionData)(emissions.body)))
          const governance = yield* request(`${server.url}/governance/${ticker}`)
          assert.strictEqual(governance.status, 200)
          assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(GovernanceRating)(governance.body)))
        }
        assert.strictEqual((yield* server.stats).malformed, 20)
      })))

  it.live("a hung request stays in flight until its client aborts", () =>
    withServer({ hangRate: 1 }, (server) =>
      Effect.gen(function*() {
        const hung = yield* Effect.fork(request(`${server.url}/emissions/AAPL`))
        yield* eventually(server, (stats) => stats.inFlight === 1 && stats.hung === 1)
        // interrupting the fetch aborts its AbortController
        yield* Effect.sleep("100 millis")
        yield* Fiber.interrupt(hung)
        const stats = yield* eventually(server, (stats) => stats.inFlight === 0)
        assert.deepStrictEqual(stats.byStatus, {})
        assert.strictEqual(stats.requests, 1)
      })))

  it.live("the layer's scope closes with a hung request open, dropping its connection", () =>
    Effect.gen(function*() {
      const hung = yield* withServer({ hangRate: 1 }, (server) =>
        Effect.gen(function*() {
          // forked from the test fiber, so it outlives the server's scope
          const fiber = yield* Effect.fork(request(`${server.url}/governance/AAPL`))
          yield* eventually(server, (stats) => stats.inFlight === 1)
          return fiber
        }))
      const outcome = yield* Effect.either(Fiber.join(hung))
      assert.isTrue(Either.isLeft(outcome))
    }))

  it.live("GET /faults names each request a fault was injected into, and only those; a reset empties it", () =>
    withServer({ errorRate: 0.2, throttleRate: 0.2, malformedRate: 0.2, seed: 3 }, (server) =>
      Effect.gen(function*() {
        const sent = tickers.flatMap((ticker) => [["emissions", ticker, 1], ["governance", ticker, 1], ["emissions", ticker, 2]] as const)
        const before = Date.now()
        yield* Effect.forEach(sent, ([route, ticker]) => request(`${server.url}/${route}/${ticker}`), { discard: true })
        const answer = yield* request(`${server.url}/faults`)
        assert.strictEqual(answer.status, 200)
        const faults = yield* Schema.decodeUnknown(Schema.Array(InjectedFault))(answer.body)
        // request by request, the server's own draw: a fault is listed exactly when one was drawn
        const expected = sent.flatMap(([route, ticker, attempt]) => {
          const fault = decideFault({ errorRate: 0.2, throttleRate: 0.2, malformedRate: 0.2, seed: 3 }, route, ticker, attempt)
          return fault === "none" ? [] : [`${ticker} ${route} ${fault}`]
        })
        assert.isAbove(expected.length, 3)
        assert.isBelow(expected.length, sent.length)
        assert.deepStrictEqual(faults.map((f) => `${f.ticker} ${f.source} ${f.fault}`).sort(), expected.sort())
        assert.isTrue(faults.every((f) => f.at >= before && f.at <= Date.now()))
        assert.deepStrictEqual(yield* server.faults, faults)

        yield* request(`${server.url}/stats/reset`, { method: "POST" })
        assert.deepStrictEqual((yield* request(`${server.url}/faults`)).body, [])
      })))

  it.live("GET /faults lists a hung request as it comes in", () =>
    withServer({ hangRate: 1 }, (server) =>
      Effect.gen(function*() {
        const hung = yield* Effect.fork(request(`${server.url}/governance/MSFT`))
        yield* eventually(server, (stats) => stats.hung === 1)
        const answer = yield* request(`${server.url}/faults`)
        assert.deepStrictEqual((answer.body as ReadonlyArray<{ ticker: string; fault: string }>).map((f) => [f.ticker, f.fault]), [
          ["MSFT", "hang"]
        ])
        yield* Fiber.interrupt(hung)
      })))

  it.live("fault decisions are reproducible from the seed", () =>
    Effect.gen(function*() {
      const paths = Array.from({ length: 20 }, (_, i) => `emissions/${tickers[i % 10]}`)
      const statuses = (seed: number) =>
        withServer({ errorRate: 0.5, seed }, (server) =>
          Effect.forEach(paths, (path) => Effect.map(request(`${server.url}/${path}`), (answer) => answer.status)))

      const first = yield* statuses(7)
      assert.deepStrictEqual(yield* statuses(7), first)
      assert.notDeepEqual(yield* statuses(8), first)
      assert.includeMembers(first, [200, 503])
      // the first ten are each ticker's attempt 1, the next ten attempt 2
      assert.deepStrictEqual(
        first,
        paths.map((_, i) => decideFault({ errorRate: 0.5, seed: 7 }, "emissions", tickers[i % 10]!, i < 10 ? 1 : 2) === "error" ? 503 : 200)
      )
    }))

  it.live("fault decisions do not depend on how requests for different tickers interleave", () =>
    withServer({ errorRate: 0.3, throttleRate: 0.3, seed: 3 }, (server) =>
      Effect.gen(function*() {
        const perTicker = yield* Effect.forEach(
          tickers,
          (ticker) =>
            Effect.forEach([1, 2, 3], () => Effect.map(request(`${server.url}/governance/${ticker}`), (a) => a.status)),
          { concurrency: "unbounded" }
        )
        const expected = tickers.map((ticker) =>
          [1, 2, 3].map((attempt) => {
            const fault = decideFault({ errorRate: 0.3, throttleRate: 0.3, seed: 3 }, "governance", ticker, attempt)
            return fault === "error" ? 503 : fault === "throttle" ? 429 : 200
          })
        )
        assert.deepStrictEqual(perTicker, expected)
      })))

  it.live("serve announces its URL and serves until interrupted", () =>
    Effect.gen(function*() {
      const listening = yield* Deferred.make<string>()
      const fiber = yield* Effect.fork(
        serve({ records, latencyEmissions: "5 millis" }, (url) => Deferred.succeed(listening, url))
      )
      const url = yield* Deferred.await(listening)
      const answer = yield* request(`${url}/emissions/AAPL`)
      assert.strictEqual(answer.status, 200)
      yield* Fiber.interrupt(fiber)
      const refused = yield* Effect.either(request(`${url}/stats`))
      assert.isTrue(Either.isLeft(refused))
    }))
})
