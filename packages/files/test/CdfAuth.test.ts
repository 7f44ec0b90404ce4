import { CdfAuth } from "@effect-cdf/files"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Fiber, Layer, Redacted, Ref, TestClock } from "effect"

const secret = "s3cr3t-Value"

interface Seen {
  readonly url: string
  readonly contentType: string | undefined
  readonly form: URLSearchParams
}

/** A fake identity provider: answers with `answer(n)` for the n-th request (1-based), records the requests. */
const fakeIdp = (
  answer: (n: number) => { status: number; body: unknown; headers?: Record<string, string> },
  delayMillis = 0
) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<Seen>>([])
    const client = HttpClient.make((request) =>
      Effect.gen(function*() {
        const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
        const all = yield* Ref.updateAndGet(seen, (xs) => [...xs, {
          url: request.url,
          contentType: request.headers["content-type"],
          form: new URLSearchParams(body)
        }])
        if (delayMillis > 0) yield* Effect.sleep(delayMillis)
        const { body: json, headers, status } = answer(all.length)
        return HttpClientResponse.fromWeb(
          request,
          new Response(JSON.stringify(json), { status, headers: { "content-type": "application/json", ...headers } })
        )
      })
    )
    return { seen, layer: Layer.succeed(HttpClient.HttpClient, client) }
  })

const credentials = {
  tokenUrl: "https://login.example.com/tenant/oauth2/v2.0/token",
  clientId: "my-client",
  clientSecret: Redacted.make(secret),
  scopes: ["https://api.cognitedata.com/.default", "openid"],
  audience: "https://cdf"
}

describe("CdfAuth.layerToken", () => {
  it.effect("serves a static token and refreshes to the same token", () =>
    Effect.gen(function*() {
      const auth = yield* CdfAuth.CdfAuth
      const token = yield* auth.token
      expect(Redacted.value(token)).toBe("static")
      expect(Redacted.value(yield* auth.refresh(token))).toBe("static")
    }).pipe(Effect.provide(CdfAuth.layerToken(Redacted.make("static")))))

  it.effect("runs a token effect for every request", () =>
    Effect.gen(function*() {
      const count = yield* Ref.make(0)
      const auth = CdfAuth.makeToken(Effect.map(Ref.updateAndGet(count, (n) => n + 1), (n) => Redacted.make(`t${n}`)))
      expect(Redacted.value(yield* auth.token)).toBe("t1")
      expect(Redacted.value(yield* auth.token)).toBe("t2")
    }))
})

describe("CdfAuth.layerClientCredentials", () => {
  it.effect("POSTs a form with the grant, client, secret, scopes and audience, and caches the token", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp(() => ({ status: 200, body: { access_token: "tok-1", expires_in: 3600 } }))
      const auth = yield* CdfAuth.makeClientCredentials(credentials).pipe(Effect.provide(idp.layer))
      expect(Redacted.value(yield* auth.token)).toBe("tok-1")
      expect(Redacted.value(yield* auth.token)).toBe("tok-1")
      const seen = yield* Ref.get(idp.seen)
      expect(seen.length).toBe(1)
      expect(seen[0].url).toBe(credentials.tokenUrl)
      expect(seen[0].contentType).toBe("application/x-www-form-urlencoded")
      expect(Object.fromEntries(seen[0].form)).toEqual({
        grant_type: "client_credentials",
        client_id: "my-client",
        client_secret: secret,
        scope: "https://api.cognitedata.com/.default openid",
        audience: "https://cdf"
      })
    }))

  it.effect("refreshes 30 s before expiry, not earlier", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp((n) => ({ status: 200, body: { access_token: `tok-${n}`, expires_in: 100 } }))
      const auth = yield* CdfAuth.makeClientCredentials(credentials).pipe(Effect.provide(idp.layer))
      expect(Redacted.value(yield* auth.token)).toBe("tok-1")
      yield* TestClock.adjust("69 seconds")
      expect(Redacted.value(yield* auth.token)).toBe("tok-1")
      yield* TestClock.adjust("2 seconds")
      expect(Redacted.value(yield* auth.token)).toBe("tok-2")
      expect((yield* Ref.get(idp.seen)).length).toBe(2)
    }))

  it.effect("makes one token request for many concurrent callers", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp((n) => ({ status: 200, body: { access_token: `tok-${n}`, expires_in: 3600 } }), 50)
      const auth = yield* CdfAuth.makeClientCredentials(credentials).pipe(Effect.provide(idp.layer))
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 20 }, () => auth.token), { concurrency: "unbounded" }))
      yield* TestClock.adjust("1 second")
      const tokens = yield* Fiber.join(fiber)
      expect(new Set(tokens.map(Redacted.value))).toEqual(new Set(["tok-1"]))
      expect((yield* Ref.get(idp.seen)).length).toBe(1)
    }))

  it.effect("refresh after a rejection fetches a new token once, even when many callers ask", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp((n) => ({ status: 200, body: { access_token: `tok-${n}`, expires_in: 3600 } }), 10)
      const auth = yield* CdfAuth.makeClientCredentials(credentials).pipe(Effect.provide(idp.layer))
      const first = yield* auth.token.pipe(Effect.fork)
      yield* TestClock.adjust("1 second")
      const rejected = yield* Fiber.join(first)
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 10 }, () => auth.refresh(rejected)), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("1 second")
      const fresh = yield* Fiber.join(fiber)
      expect(new Set(fresh.map(Redacted.value))).toEqual(new Set(["tok-2"]))
      expect((yield* Ref.get(idp.seen)).length).toBe(2)
    }))

  it.effect("a refusal is an AuthError TokenRequest with the OAuth2 code, never the secret", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp(() => ({
        status: 401,
        body: { error: "invalid_client", error_description: `bad secret ${secret}` }
      }))
      const auth = yield* CdfAuth.makeClientCredentials(credentials).pipe(Effect.provide(idp.layer))
      const error = yield* Effect.flip(auth.token)
      expect(error._tag).toBe("AuthError")
      expect(error.reason).toBe("TokenRequest")
      expect(error.code).toBe("invalid_client")
      expect(error.status).toBe(401)
      expect(error.request?.origin).toBe("https://login.example.com")
      expect(JSON.stringify(error)).not.toContain(secret)
      expect(error.message).not.toContain(secret)
      expect(String(error)).not.toContain(secret)
      expect((yield* Ref.get(idp.seen)).length).toBe(1)
    }))

  it.effect("retries a 503 of the token endpoint with its schedule", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp((n) =>
        n < 3 ? { status: 503, body: { error: "temporarily_unavailable" } } : { status: 200, body: { access_token: "ok" } }
      )
      const auth = yield* CdfAuth.makeClientCredentials(credentials).pipe(Effect.provide(idp.layer))
      const fiber = yield* Effect.fork(auth.token)
      yield* TestClock.adjust("10 seconds")
      expect(Redacted.value(yield* Fiber.join(fiber))).toBe("ok")
      expect((yield* Ref.get(idp.seen)).length).toBe(3)
    }))

  it.effect("waits for the Retry-After of a 503 of the token endpoint, as for any request", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp((n) =>
        n === 1
          ? { status: 503, body: { error: "temporarily_unavailable" }, headers: { "retry-after": "5" } }
          : { status: 200, body: { access_token: "ok" } }
      )
      const auth = yield* CdfAuth.makeClientCredentials(credentials).pipe(Effect.provide(idp.layer))
      const fiber = yield* Effect.fork(auth.token)
      yield* TestClock.adjust("4999 millis")
      expect((yield* Ref.get(idp.seen)).length).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(Redacted.value(yield* Fiber.join(fiber))).toBe("ok")
      expect((yield* Ref.get(idp.seen)).length).toBe(2)
    }))

  it.effect("a 401 of the token endpoint is an AuthError at once, never retried", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp(() => ({ status: 401, body: { error: "invalid_client" } }))
      const auth = yield* CdfAuth.makeClientCredentials(credentials).pipe(Effect.provide(idp.layer))
      const error = yield* Effect.flip(auth.token)
      expect([error.reason, error.status, error.code]).toEqual(["TokenRequest", 401, "invalid_client"])
      expect((yield* Ref.get(idp.seen)).length).toBe(1)
    }))

  it.effect("refuses a plain http:// token URL to a non-loopback host", () =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp(() => ({ status: 200, body: { access_token: "x" } }))
      const error = yield* Effect.flip(
        CdfAuth.makeClientCredentials({ ...credentials, tokenUrl: "http://login.example.com/token" }).pipe(
          Effect.provide(idp.layer)
        )
      )
      expect(error._tag).toBe("InvalidConfigError")
      expect(error.setting).toBe("tokenUrl")
      const ok = yield* CdfAuth.makeClientCredentials({ ...credentials, tokenUrl: "http://127.0.0.1:9/token" }).pipe(
        Effect.provide(idp.layer),
        Effect.either
      )
      expect(ok._tag).toBe("Right")
    }))
})

describe("CdfAuth.layerConfig", () => {
  const resolve = (env: Record<string, string>) =>
    Effect.gen(function*() {
      const idp = yield* fakeIdp(() => ({ status: 200, body: { access_token: "from-idp", expires_in: 3600 } }))
      const auth = yield* CdfAuth.CdfAuth.pipe(
        Effect.provide(CdfAuth.layerConfig().pipe(
          Layer.provide(idp.layer),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
        ))
      )
      const token = yield* auth.token
      return { token: Redacted.value(token), seen: yield* Ref.get(idp.seen) }
    })

  it.effect("uses CDF_TOKEN alone", () =>
    Effect.gen(function*() {
      const { seen, token } = yield* resolve({ CDF_TOKEN: "env-token" })
      expect(token).toBe("env-token")
      expect(seen.length).toBe(0)
    }))

  it.effect("uses client credentials with IDP_TENANT_ID (Entra ID) and the default scope from CDF_CLUSTER", () =>
    Effect.gen(function*() {
      const { seen, token } = yield* resolve({
        IDP_TENANT_ID: "tenant-1",
        IDP_CLIENT_ID: "cid",
        IDP_CLIENT_SECRET: secret,
        CDF_CLUSTER: "westeurope-1"
      })
      expect(token).toBe("from-idp")
      expect(seen[0].url).toBe("https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token")
      expect(seen[0].form.get("scope")).toBe("https://westeurope-1.cognitedata.com/.default")
    }))

  it.effect("splits IDP_SCOPES on commas and spaces and sends IDP_AUDIENCE", () =>
    Effect.gen(function*() {
      const { seen } = yield* resolve({
        IDP_TOKEN_URL: "https://idp.example.com/token",
        IDP_CLIENT_ID: "cid",
        IDP_CLIENT_SECRET: secret,
        IDP_SCOPES: "a, b c",
        IDP_AUDIENCE: "aud"
      })
      expect(seen[0].form.get("scope")).toBe("a b c")
      expect(seen[0].form.get("audience")).toBe("aud")
    }))

  it.effect("both CDF_TOKEN and IDP_CLIENT_ID without LOGIN_FLOW is an InvalidConfigError naming both", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolve({
        CDF_TOKEN: "t",
        IDP_CLIENT_ID: "cid",
        IDP_CLIENT_SECRET: secret,
        IDP_TOKEN_URL: "https://idp.example.com/token"
      }))
      expect(error._tag).toBe("InvalidConfigError")
      if (error._tag === "InvalidConfigError") expect(error.setting).toBe("CDF_TOKEN, IDP_CLIENT_ID")
    }))

  it.effect("LOGIN_FLOW chooses when both are set", () =>
    Effect.gen(function*() {
      const both = {
        CDF_TOKEN: "env-token",
        IDP_CLIENT_ID: "cid",
        IDP_CLIENT_SECRET: secret,
        IDP_TOKEN_URL: "https://idp.example.com/token",
        IDP_SCOPES: "s"
      }
      expect((yield* resolve({ ...both, LOGIN_FLOW: "token" })).token).toBe("env-token")
      expect((yield* resolve({ ...both, LOGIN_FLOW: "client_credentials" })).token).toBe("from-idp")
      const bad = yield* Effect.flip(resolve({ ...both, LOGIN_FLOW: "interactive" }))
      expect(bad._tag).toBe("InvalidConfigError")
    }))

  it.effect("no credentials at all is an InvalidConfigError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolve({}))
      expect(error._tag).toBe("InvalidConfigError")
    }))

  it.effect("refuses an http:// IDP_TOKEN_URL to a non-loopback host", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolve({
        IDP_TOKEN_URL: "http://idp.example.com/token",
        IDP_CLIENT_ID: "cid",
        IDP_CLIENT_SECRET: secret,
        IDP_SCOPES: "s"
      }))
      expect(error._tag).toBe("InvalidConfigError")
      if (error._tag === "InvalidConfigError") expect(error.setting).toBe("tokenUrl")
    }))
})
