/**
 * One request to an external provider over HTTP (`@effect/platform`
 * HttpClient), its response decoded with `effect/Schema`, every way it can go
 * wrong turned into the source's tagged error with a precise reason and a
 * retry hint. Retries themselves belong to the pipeline, which knows the
 * deadline and holds the gate.
 *
 * @since 0.1.0
 */
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Clock, Config, type Context, Duration, Effect, Layer, Option, type Redacted, type Schema } from "effect"
import { SourceError, type Ticker } from "../Domain.js"
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

/**
 * Builds `fetch(ticker)` for one provider route: `GET {baseUrl}{path}/{ticker}`.
 * 200 with a valid body succeeds; 429 and 5xx and connection errors fail
 * retryable; other statuses and an invalid body fail for good.
 */
export const makeProviderFetch = <A, I>(options: {
  readonly client: HttpClient.HttpClient
  readonly endpoint: ProviderEndpoint
  readonly source: ExternalSource
  readonly schema: Schema.Schema<A, I>
}) => {
  const source = options.source
  const base = options.endpoint.baseUrl.replace(/\/+$/, "")
  const authorize = Option.match(options.endpoint.apiKey, {
    onNone: () => (request: HttpClientRequest.HttpClientRequest) => request,
    onSome: (key) => HttpClientRequest.bearerToken(key)
  })
  const decode = HttpClientResponse.schemaBodyJson(options.schema)

  return (ticker: Ticker): Effect.Effect<A, SourceError> =>
    Effect.gen(function*() {
      const request = authorize(HttpClientRequest.get(`${base}/${source}/${encodeURIComponent(ticker)}`))
      const response = yield* options.client.execute(request).pipe(
        Effect.mapError((error) =>
          new SourceError({
            source,
            ticker,
            reason: error._tag === "RequestError" ? `connection error (${error.reason})` : `response error (${error.reason})`,
            retryable: true
          })
        )
      )
      if (response.status === 200) {
        return yield* decode(response).pipe(
          Effect.mapError(() => new SourceError({ source, ticker, reason: "payload invalid" }))
        )
      }
      const now = yield* Clock.currentTimeMillis
      const retryAfterMs = parseRetryAfter(response.headers["retry-after"], now)
      const retryable = response.status === 429 || response.status >= 500
      return yield* Effect.fail(new SourceError({
        source,
        ticker,
        reason: `HTTP ${response.status}`,
        status: response.status,
        retryable,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs })
      }))
    }).pipe(
      Effect.scoped,
      Effect.onInterrupt(() => Effect.sleep(ABORT_GRACE))
    )
}

/** What the emissions and governance services share: where the data comes from, and one request per ticker. */
export interface ProviderService<A> {
  readonly origin: string
  readonly fetch: (ticker: Ticker) => Effect.Effect<A, SourceError>
}

/** The HTTP layer of a provider service: one `GET {baseUrl}/{source}/{ticker}` per call, the key as a bearer token. */
export const providerHttpLayer = <Id, A, I>(
  tag: Context.Tag<Id, ProviderService<A>>,
  route: { readonly source: ExternalSource; readonly schema: Schema.Schema<A, I> }
) =>
(endpoint: ProviderEndpoint): Layer.Layer<Id, never, HttpClient.HttpClient> =>
  Layer.effect(
    tag,
    Effect.map(HttpClient.HttpClient, (client) => {
      const fetch = makeProviderFetch({ client, endpoint, ...route })
      return {
        origin: endpoint.baseUrl,
        fetch: (ticker: Ticker) => fetch(ticker).pipe(Effect.withSpan(`${route.source}.fetch`, { attributes: { ticker } }))
      }
    })
  )
