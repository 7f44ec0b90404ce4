/**
 * The code of `CdfAuth`: OAuth2 client credentials (the token request, its retries by the rules of `retryPolicy`, the
 * cache and its refresh) and the choice of a login flow from the environment.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Config, Duration, Effect, Option, Redacted, Schedule, Schema, SynchronizedRef } from "effect"
import { AuthError, InvalidConfigError, RequestInfo } from "../CdfError.js"
import { corsHint } from "./browser.js"
import { defaults } from "./config.js"
import * as Policy from "./retryPolicy.js"
import { validateServiceUrl } from "./url.js"

/** @internal */
export interface Service {
  /** The token to send now. Cheap: cached where caching applies. */
  readonly token: Effect.Effect<Redacted.Redacted<string>, AuthError>
  /**
   * Called after the API answered 401 to a request sent with `rejected`: returns a token other than `rejected` when
   * one can be had (a static token returns itself, and the client then gives up).
   */
  readonly refresh: (rejected: Redacted.Redacted<string>) => Effect.Effect<Redacted.Redacted<string>, AuthError>
}

/** @internal */
export interface ClientCredentialsOptions {
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Scopes, e.g. `["https://api.cognitedata.com/.default"]`; sent space-separated. */
  readonly scopes: ReadonlyArray<string>
  readonly audience?: string | undefined
  /** Accept a plain `http://` token URL to a non-loopback host. */
  readonly allowInsecureHttp?: boolean | undefined
  /** Refresh this long before the token expires; default 30 seconds (at most half the token's lifetime). */
  readonly expiryLeeway?: Duration.DurationInput | undefined
  /**
   * Retries of the token request on transport errors and 408/429/500/502/503/504 (a `Retry-After` on 429/503 is
   * honoured up to 30 s); default 3 jittered retries from 200 ms.
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, unknown> | undefined
}

/** @internal */
export const makeToken = (
  token: Redacted.Redacted<string> | Effect.Effect<Redacted.Redacted<string>, AuthError>
): Service => {
  const get = Redacted.isRedacted(token) ? Effect.succeed(token) : token
  return { token: get, refresh: () => get }
}

/**
 * A token from `get`, run once and kept until the API refuses it (a 401): `refresh` then runs `get` again, once for
 * all the requests that were refused with the same token. A failure is not kept: the next request runs `get` again.
 *
 * @internal
 */
export const makeKeptToken = (get: Effect.Effect<Redacted.Redacted<string>, AuthError>): Effect.Effect<Service> =>
  cachedTokens(Effect.map(get, (token): Cached => ({ token, expiresAt: Number.POSITIVE_INFINITY, leeway: 0 })))

/**
 * The tokens `fetchToken` gives, each kept until `leeway` before it expires, or until the API refuses it; one fetch
 * in flight at a time however many callers wait, and a failed fetch kept by none.
 */
const cachedTokens = (fetchToken: Effect.Effect<Cached, AuthError>): Effect.Effect<Service> =>
  Effect.map(SynchronizedRef.make(Option.none<Cached>()), (cache): Service => {
    const isFresh = (cached: Cached, now: number) => cached.expiresAt - cached.leeway > now

    const token = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const current = yield* SynchronizedRef.get(cache)
      if (Option.isSome(current) && isFresh(current.value, now)) return current.value.token
      return yield* SynchronizedRef.modifyEffect(cache, (cached) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          if (Option.isSome(cached) && isFresh(cached.value, now)) {
            return [cached.value.token, cached] as const
          }
          const next = yield* fetchToken
          return [next.token, Option.some(next)] as const
        }))
    })

    const refresh = (rejected: Redacted.Redacted<string>) =>
      SynchronizedRef.modifyEffect(cache, (cached) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          if (
            Option.isSome(cached) && isFresh(cached.value, now) &&
            Redacted.value(cached.value.token) !== Redacted.value(rejected)
          ) {
            return [cached.value.token, cached] as const
          }
          const next = yield* fetchToken
          return [next.token, Option.some(next)] as const
        }))

    return { token, refresh }
  })

const TokenResponse = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Union(Schema.Number, Schema.NumberFromString))
})

const TokenErrorResponse = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String)
})

/** A failed token request, classified by the rules of `retryPolicy` (a 401 or 403 is never retried). */
class TokenFailure implements Policy.Classified {
  readonly _tag = "TokenFailure"
  constructor(
    readonly error: AuthError,
    readonly kind: Policy.FailureKind,
    readonly retryAfterMillis: number | undefined = undefined
  ) {}
}

/** A token request has no side effect: every retryable failure is retried. */
const isRetryable = (failure: TokenFailure): boolean => Policy.isRetryable("idempotent", failure)

interface Cached {
  readonly token: Redacted.Redacted<string>
  readonly expiresAt: number
  readonly leeway: number
}

/** @internal */
export const makeClientCredentials = (
  options: ClientCredentialsOptions
): Effect.Effect<Service, InvalidConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const tokenUrl = yield* validateServiceUrl("tokenUrl", options.tokenUrl, options.allowInsecureHttp === true)
    if (options.clientId.trim() === "") {
      return yield* new InvalidConfigError({ message: "clientId must not be empty", setting: "clientId" })
    }
    const leewayInput = Option.fromNullable(options.expiryLeeway).pipe(Option.flatMap(Duration.decodeUnknown))
    const leeway = Duration.toMillis(Option.getOrElse(leewayInput, () => Duration.seconds(30)))
    const schedule = Policy.makeSchedule(
      options.retrySchedule ??
        Schedule.exponential("200 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(3))),
      defaults
    )
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    const info = RequestInfo.fromUrl("POST", tokenUrl)
    const secret = Redacted.value(options.clientSecret)
    const scrub = (text: string) => secret === "" ? text : text.split(secret).join("<redacted>")

    const form: Record<string, string> = {
      grant_type: "client_credentials",
      client_id: options.clientId,
      client_secret: secret,
      scope: options.scopes.join(" ")
    }
    if (options.audience !== undefined) form.audience = options.audience

    const attempt = Effect.gen(function*() {
      const request = HttpClientRequest.post(tokenUrl).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.bodyUrlParams(form)
      )
      const response = yield* client.execute(request).pipe(
        Effect.catchAll((error) => {
          const kind = error._tag === "RequestError" && error.reason === "Transport"
            ? Policy.kindOfTransport(error.cause)
            : "transient"
          return Effect.fail(
            new TokenFailure(
              new AuthError({
                message: `Could not reach the identity provider at ${info.origin}${info.path}${
                  kind === "opaque" ? corsHint(info.origin) : ""
                }`,
                reason: "TokenRequest",
                request: info
              }),
              kind
            )
          )
        })
      )
      if (response.status >= 200 && response.status < 300) {
        const body = yield* HttpClientResponse.schemaBodyJson(TokenResponse)(response).pipe(
          Effect.mapError(() =>
            new TokenFailure(
              new AuthError({
                message: "The identity provider answered with a body that is not an OAuth2 token response",
                reason: "TokenRequest",
                status: response.status,
                request: info
              }),
              "fatal"
            )
          )
        )
        return body
      }
      const refusal = yield* HttpClientResponse.schemaBodyJson(TokenErrorResponse)(response).pipe(Effect.option)
      const code = Option.map(refusal, (r) => r.error)
      const description = Option.flatMap(refusal, (r) => Option.fromNullable(r.error_description))
      const error = new AuthError({
        message: scrub(
          `The identity provider refused the token request (HTTP ${response.status}${
            Option.match(code, { onNone: () => "", onSome: (c) => `, ${c}` })
          })${Option.match(description, { onNone: () => "", onSome: (d) => `: ${d.slice(0, 500)}` })}`
        ),
        reason: "TokenRequest",
        status: response.status,
        request: info,
        ...(Option.isSome(code) ? { code: code.value } : {})
      })
      const now = yield* Clock.currentTimeMillis
      const { kind, retryAfterMillis } = Policy.classifyStatus(response.status, response.headers, now, "token")
      return yield* Effect.fail(new TokenFailure(error, kind, retryAfterMillis))
    }).pipe(Effect.scoped)

    const fetchToken = Effect.suspend(() => {
      let attempts = 1
      return Policy.retrying(attempt, {
        schedule,
        retryable: isRetryable,
        onRetry: (previous) =>
          Policy.retryEvent(
            ++attempts,
            previous.error.status === undefined ? "transport" : `status ${previous.error.status}`
          )
      })
    }).pipe(
      Effect.mapError((failure) => failure.error),
      Effect.flatMap((body) =>
        Effect.map(Clock.currentTimeMillis, (now): Cached => {
          const lifetime = (body.expires_in ?? 3600) * 1000
          return {
            token: Redacted.make(body.access_token),
            expiresAt: now + lifetime,
            leeway: Math.min(leeway, lifetime / 2)
          }
        })
      ),
      Effect.withSpan("CdfAuth.tokenRequest", { attributes: { "cdf.auth.token_url.origin": info.origin } })
    )

    return yield* cachedTokens(fetchToken)
  })

/** @internal */
export const entraIdTokenUrl = (tenantId: string): string =>
  `https://login.microsoftonline.com/${encodeURIComponent(tenantId.trim())}/oauth2/v2.0/token`

const optionalString = (name: string) =>
  Config.string(name).pipe(
    Config.option,
    Config.map(Option.filter((s) => s.trim() !== ""))
  )

const optionalRedacted = (name: string) =>
  Config.redacted(name).pipe(
    Config.option,
    Config.map(Option.filter((s) => Redacted.value(s).trim() !== ""))
  )

/** @internal */
export const environment = Config.all({
  loginFlow: optionalString("LOGIN_FLOW"),
  token: optionalRedacted("CDF_TOKEN"),
  tokenUrl: optionalString("IDP_TOKEN_URL"),
  tenantId: optionalString("IDP_TENANT_ID"),
  clientId: optionalString("IDP_CLIENT_ID"),
  clientSecret: optionalRedacted("IDP_CLIENT_SECRET"),
  scopes: optionalString("IDP_SCOPES"),
  audience: optionalString("IDP_AUDIENCE"),
  cdfUrl: optionalString("CDF_URL"),
  cluster: optionalString("CDF_CLUSTER")
})

/** @internal */
export type Environment = Config.Config.Success<typeof environment>

const invalid = (setting: string, message: string) => Effect.fail(new InvalidConfigError({ message, setting }))

/** @internal */
export const fromEnvironment = (
  env: Environment,
  options?: { readonly allowInsecureHttp?: boolean | undefined }
): Effect.Effect<Service, InvalidConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const flow = Option.map(env.loginFlow, (f) => f.trim().toLowerCase())
    let useClientCredentials: boolean
    if (Option.isSome(flow)) {
      if (flow.value === "client_credentials") useClientCredentials = true
      else if (flow.value === "token") useClientCredentials = false
      else {
        return yield* invalid(
          "LOGIN_FLOW",
          `LOGIN_FLOW must be client_credentials or token (got ${JSON.stringify(flow.value.slice(0, 40))})`
        )
      }
    } else {
      if (Option.isSome(env.clientId) && Option.isSome(env.token)) {
        return yield* invalid(
          "CDF_TOKEN, IDP_CLIENT_ID",
          "Both CDF_TOKEN and IDP_CLIENT_ID are set: set LOGIN_FLOW to token or client_credentials to choose"
        )
      }
      if (Option.isNone(env.clientId) && Option.isNone(env.token)) {
        return yield* invalid(
          "CDF_TOKEN, IDP_CLIENT_ID",
          "No credentials: set CDF_TOKEN, or IDP_CLIENT_ID and IDP_CLIENT_SECRET"
        )
      }
      useClientCredentials = Option.isSome(env.clientId)
    }
    if (!useClientCredentials) {
      if (Option.isNone(env.token)) return yield* invalid("CDF_TOKEN", "LOGIN_FLOW is token but CDF_TOKEN is not set")
      return makeToken(env.token.value)
    }
    if (Option.isNone(env.clientId)) {
      return yield* invalid("IDP_CLIENT_ID", "Client credentials need IDP_CLIENT_ID")
    }
    if (Option.isNone(env.clientSecret)) {
      return yield* invalid("IDP_CLIENT_SECRET", "Client credentials need IDP_CLIENT_SECRET")
    }
    const tokenUrl = Option.isSome(env.tokenUrl)
      ? env.tokenUrl.value
      : Option.isSome(env.tenantId)
      ? entraIdTokenUrl(env.tenantId.value)
      : undefined
    if (tokenUrl === undefined) {
      return yield* invalid("IDP_TOKEN_URL, IDP_TENANT_ID", "Client credentials need IDP_TOKEN_URL or IDP_TENANT_ID")
    }
    let scopes: ReadonlyArray<string>
    if (Option.isSome(env.scopes)) {
      scopes = env.scopes.value.split(/[\s,]+/).filter((s) => s !== "")
    } else {
      const cdfUrl = Option.isSome(env.cdfUrl)
        ? env.cdfUrl.value.trim().replace(/\/+$/, "")
        : Option.isSome(env.cluster)
        ? `https://${env.cluster.value.trim()}.cognitedata.com`
        : undefined
      if (cdfUrl === undefined) {
        return yield* invalid("IDP_SCOPES", "Client credentials need IDP_SCOPES, or CDF_URL or CDF_CLUSTER for the default")
      }
      scopes = [`${cdfUrl}/.default`]
    }
    return yield* makeClientCredentials({
      tokenUrl,
      clientId: env.clientId.value,
      clientSecret: env.clientSecret.value,
      scopes,
      audience: Option.getOrUndefined(env.audience),
      allowInsecureHttp: options?.allowInsecureHttp
    })
  })
