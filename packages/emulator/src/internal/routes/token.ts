/**
 * The OAuth2 token endpoint (client credentials, in the form or as HTTP Basic).
 *
 * @internal
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type { Handler } from "../http.js"
import { header, OAuthError, readBytes } from "../http.js"
import * as S from "../schema.js"
import type { State } from "../state.js"
import { secretEquals } from "../state.js"

const decodePart = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "))
  } catch (_) {
    return s
  }
}

export const make = (state: State): Handler => (ctx) =>
  Effect.gen(function*() {
    const bytes = yield* readBytes(ctx, 65536)
    if (bytes === undefined) {
      return yield* new OAuthError({ status: 413, error: "invalid_request", description: "request too large" })
    }
    const form = Object.fromEntries(new URLSearchParams(bytes.toString("utf8")))
    const decoded = S.decodeTokenRequest(form)
    if (Either.isLeft(decoded)) {
      return yield* new OAuthError({ status: 400, error: "invalid_request", description: "grant_type is required" })
    }
    const request = decoded.right
    if (request.grant_type !== "client_credentials") {
      return yield* new OAuthError({
        status: 400,
        error: "unsupported_grant_type",
        description: "Only client_credentials is supported"
      })
    }
    let clientId = request.client_id
    let clientSecret = request.client_secret
    const basic = /^Basic\s+(\S+)\s*$/i.exec(header(ctx, "authorization") ?? "")
    if (basic !== null) {
      const decodedBasic = Buffer.from(basic[1], "base64").toString("utf8")
      const colon = decodedBasic.indexOf(":")
      if (colon !== -1) {
        clientId = decodePart(decodedBasic.slice(0, colon))
        clientSecret = decodePart(decodedBasic.slice(colon + 1))
      }
    }
    if (
      clientId === undefined || clientSecret === undefined || clientId !== state.clientId ||
      !secretEquals(clientSecret, Redacted.value(state.clientSecret))
    ) {
      return yield* new OAuthError({ status: 401, error: "invalid_client", description: "Client authentication failed" })
    }
    const accessToken = yield* state.issueToken(undefined)
    return HttpServerResponse.unsafeJson({
      access_token: Redacted.value(accessToken),
      token_type: "Bearer",
      expires_in: Math.floor(Duration.toSeconds(state.tokenLifetime))
    }, { status: 200, headers: { "cache-control": "no-store" } })
  })
