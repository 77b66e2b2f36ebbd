/**
 * One request to an external provider over HTTP (undici's `request`: about
 * half the CPU a request costs through `@effect/platform`'s HttpClient, which
 * made the client the larger part of a company's cost at a large quota), its
 * response decoded with `effect/Schema`, every way it can go wrong turned
 * into the source's tagged error with a precise reason and a retry hint.
 * Retries themselves belong to the pipeline, which knows the deadline and
 * holds the gate.
 *
 * @since 0.1.0
 */
import { Clock, Config, type Context, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { NO_KEY_SENT, SourceError, type Ticker } from "../Domain.js"
import type { ExternalSource } from "../Domain.js"

/** Where a provider lives. The key is sent as a bearer token and is never printed. */
export interface ProviderEndpoint {
  readonly baseUrl: string
  readonly apiKey: Option.Option<Redacted.Redacted<string>>
}

/**
 * Reads an endpoint from the environment: `ESG_<NAME>_URL` and the optional
 * secret `ESG_<NAME>_API_KEY`. `None` when no URL is configured.
 */
export const endpointConfig = (name: "EMISSIONS" | "GOVERNANCE") =>
  Config.all({
    baseUrl: Config.option(Config.string(`ESG_${name}_URL`)),
    apiKey: Config.option(Config.redacted(`ESG_${name}_API_KEY`))
  })

/**
 * How long an aborted request keeps its gate permit. Aborting closes the
 * connection at once on this side, but the provider only learns of it when
 * it next reads the socket; releasing the permit straight away would let the
 * next request reach the provider while it still counts the aborted one, and
 * the provider would see more requests in flight than the limit.
 */
export const ABORT_GRACE: Duration.Duration = Duration.millis(50)

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date. */
export const parseRetryAfter = (value: string | undefined, nowMs: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

/** What a provider request needs of undici: one request on a dispatcher of the provider's own. */
interface Transport {
  readonly request: typeof import("undici").request
  readonly dispatcher: import("undici").Dispatcher
}

/** A provider's answer as far as it is read: its status, its `Retry-After`, and its body for a 200. */
interface Answer {
  readonly status: number
  readonly retryAfter: string | undefined
  readonly body: unknown
}

/**
 * Builds `fetch(ticker)` for one provider route: `GET {baseUrl}/{source}/{ticker}`.
 * 200 with a valid body succeeds; 429 and 5xx and connection errors fail
 * retryable; other statuses and an invalid body fail for good. Interrupted,
 * the request is aborted.
 */
export const makeProviderFetch = <A, I>(options: {
  readonly transport: Transport
  readonly endpoint: ProviderEndpoint
  readonly source: ExternalSource
  readonly schema: Schema.Schema<A, I>
}) => {
  const { dispatcher, request } = options.transport
  const source = options.source
  const base = options.endpoint.baseUrl.replace(/\/+$/, "")
  const headers = Option.match(options.endpoint.apiKey, {
    onNone: () => ({}),
    onSome: (key) => ({ authorization: `Bearer ${Redacted.value(key)}` })
  })
  const decode = Schema.decodeUnknown(options.schema)
  // a provider that has never answered and refuses connection after connection is not there at all
  let answered = false
  let refusedInARow = 0

  const connectionError = (ticker: Ticker, cause: unknown): SourceError => {
    const code = errorCode(cause)
    if (answered || !NO_ONE_THERE.includes(code)) {
      return new SourceError({ source, ticker, reason: `connection error (${code}) at ${base}`, retryable: true })
    }
    refusedInARow++
    return new SourceError({
      source,
      ticker,
      reason: `connection error (${code}) at ${base}`,
      retryable: true,
      // the provider never answered one request: the whole run would spend its deadlines on it
      ...(refusedInARow >= UNREACHABLE_AFTER ? { status: UNREACHABLE } : {})
    })
  }

  const send = (ticker: Ticker): Effect.Effect<Answer, SourceError> =>
    Effect.tryPromise({
      try: async (signal): Promise<Answer> => {
        const response = await request(`${base}/${source}/${encodeURIComponent(ticker)}`, { dispatcher, headers, signal })
        const retryAfter = response.headers["retry-after"]
        // a body not read keeps its connection busy: read the one that is used, drop the others
        const body = response.statusCode === 200 ? await response.body.json() : await response.body.dump()
        answered = true
        return { status: response.statusCode, retryAfter: typeof retryAfter === "string" ? retryAfter : undefined, body }
      },
      catch: (cause) =>
        cause instanceof SyntaxError
          ? new SourceError({ source, ticker, reason: "payload invalid" })
          : connectionError(ticker, cause)
    })

  return (ticker: Ticker): Effect.Effect<A, SourceError> =>
    Effect.flatMap(send(ticker), (answer): Effect.Effect<A, SourceError> => {
      if (answer.status === 200) {
        return Effect.mapError(decode(answer.body), () => new SourceError({ source, ticker, reason: "payload invalid" }))
      }
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const retryAfterMs = parseRetryAfter(answer.retryAfter, now)
        return Effect.fail(
          new SourceError({
            source,
            ticker,
            reason: (answer.status === 401 || answer.status === 403) && Option.isNone(options.endpoint.apiKey)
              ? `HTTP ${answer.status}; ${NO_KEY_SENT}`
              : `HTTP ${answer.status}`,
            status: answer.status,
            retryable: answer.status === 429 || answer.status >= 500,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs })
          })
        )
      })
    }).pipe(Effect.onInterrupt(() => Effect.sleep(ABORT_GRACE)))
}

/** The codes of a connection no one answers: refused, or a host that is not there. */
const NO_ONE_THERE = ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]

/** Connections refused in a row, by a provider that never answered, before the run stops. */
const UNREACHABLE_AFTER = 3

/** The status a `SourceError` says when its provider is not there at all (no HTTP status is 0). */
export const UNREACHABLE = 0

/** What a failed request says of itself: its code (`ECONNREFUSED`), else its name. */
const errorCode = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null) {
    const code = (cause as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    const name = (cause as { readonly name?: unknown }).name
    if (typeof name === "string") return name
  }
  return "unknown"
}

/** What the emissions and governance services share: where the data comes from, and one request per ticker. */
export interface ProviderService<A> {
  readonly origin: string
  readonly fetch: (ticker: Ticker) => Effect.Effect<A, SourceError>
}

/**
 * The HTTP layer of a provider service: one `GET {baseUrl}/{source}/{ticker}`
 * per call, the key as a bearer token, over undici's `request` on a
 * keep-alive dispatcher of the provider's own, closed with the layer
 * (`HttpTransport`, loaded only then).
 */
export const providerHttpLayer = <Id, A, I>(
  tag: Context.Tag<Id, ProviderService<A>>,
  route: { readonly source: ExternalSource; readonly schema: Schema.Schema<A, I> }
) =>
(endpoint: ProviderEndpoint): Layer.Layer<Id> =>
  Layer.scoped(
    tag,
    Effect.gen(function*() {
      const http = yield* Effect.promise(() => import("./HttpTransport.js"))
      const dispatcher = yield* Effect.acquireRelease(Effect.sync(http.makeAgent), (agent) => Effect.promise(() => agent.close()))
      const fetch = makeProviderFetch({ transport: { request: http.request, dispatcher }, endpoint, ...route })
      return {
        origin: endpoint.baseUrl,
        fetch: (ticker: Ticker) =>
          fetch(ticker).pipe(Effect.withSpan(`${route.source}.fetch`, { attributes: { ticker }, captureStackTrace: false }))
      }
    })
  )
