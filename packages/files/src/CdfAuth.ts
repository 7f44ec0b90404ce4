/**
 * How the client gets the bearer token it sends to the CDF API: a static token, a token effect, or OAuth2 client
 * credentials (cached, refreshed 30 s before expiry, one refresh in flight at a time).
 *
 * Auth layers need nothing but an `HttpClient`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Context, Effect, Layer, type Redacted } from "effect"
import type * as ConfigError from "effect/ConfigError"
import type { AuthError, InvalidConfigError } from "./CdfError.js"
import * as internal from "./internal/auth.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service extends internal.Service {}

/**
 * @since 0.1.0
 * @category tags
 */
export class CdfAuth extends Context.Tag("@effect-cdf/files/CdfAuth")<CdfAuth, Service>() {}

/**
 * A static token, or an effect run for every request (e.g. reading a token another component keeps fresh).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeToken: (
  token: Redacted.Redacted<string> | Effect.Effect<Redacted.Redacted<string>, AuthError>
) => Service = internal.makeToken

/**
 * @since 0.1.0
 * @category layers
 */
export const layerToken = (
  token: Redacted.Redacted<string> | Effect.Effect<Redacted.Redacted<string>, AuthError>
): Layer.Layer<CdfAuth> => Layer.succeed(CdfAuth, makeToken(token))

/**
 * The options of OAuth2 client credentials, each documented on its field (declared in `internal/auth.ts`; an editor
 * shows it on hover) and in docs/configuration.md, "Credentials".
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientCredentialsOptions extends internal.ClientCredentialsOptions {}

/**
 * OAuth2 client credentials over `HttpClient`: a form-encoded POST to the token URL, the token cached and refreshed
 * `expiryLeeway` before it expires, one request in flight at a time however many callers wait. A refusal is an
 * `AuthError` with reason `TokenRequest` and the OAuth2 error code; the secret never appears in it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClientCredentials: (
  options: ClientCredentialsOptions
) => Effect.Effect<Service, InvalidConfigError, HttpClient.HttpClient> = internal.makeClientCredentials

/**
 * @since 0.1.0
 * @category layers
 */
export const layerClientCredentials = (
  options: ClientCredentialsOptions
): Layer.Layer<CdfAuth, InvalidConfigError, HttpClient.HttpClient> =>
  Layer.effect(CdfAuth, makeClientCredentials(options))

/**
 * Entra ID's token URL for a tenant.
 *
 * @since 0.1.0
 * @category constructors
 */
export const entraIdTokenUrl: (tenantId: string) => string = internal.entraIdTokenUrl

/**
 * The environment names read by `layerConfig`.
 *
 * @since 0.1.0
 * @category config
 */
export const environment = internal.environment

/**
 * What `layerConfig` read from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = internal.Environment

/**
 * Chooses and builds the auth service from what `environment` read, with the rule of cognite-toolkit: `LOGIN_FLOW`
 * (`client_credentials` or `token`) decides; without it, client credentials when `IDP_CLIENT_ID` is set, else
 * `CDF_TOKEN`; both set without `LOGIN_FLOW` is an `InvalidConfigError` naming both.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEnvironment: (
  env: Environment,
  options?: { readonly allowInsecureHttp?: boolean | undefined }
) => Effect.Effect<Service, InvalidConfigError, HttpClient.HttpClient> = internal.fromEnvironment

/**
 * The auth service chosen from the environment: `CDF_TOKEN`, `IDP_TOKEN_URL` (or `IDP_TENANT_ID` for Entra ID),
 * `IDP_CLIENT_ID`, `IDP_CLIENT_SECRET`, `IDP_SCOPES` (comma- or space-separated; default `{CDF_URL}/.default`),
 * `IDP_AUDIENCE` and `LOGIN_FLOW`; see `fromEnvironment` for the rule.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: { readonly allowInsecureHttp?: boolean | undefined }
): Layer.Layer<CdfAuth, ConfigError.ConfigError | InvalidConfigError, HttpClient.HttpClient> =>
  Layer.effect(CdfAuth, Effect.flatMap(environment, (env) => fromEnvironment(env, options)))
