/**
 * Where `cdf-files` takes its settings from: flags first, then the environment, then a `.env` file in the current
 * directory (the names of cognite-toolkit).
 *
 * @internal
 */
import * as PlatformConfigProvider from "@effect/platform/PlatformConfigProvider"
import * as FileSystem from "@effect/platform/FileSystem"
import { Config, ConfigProvider, Effect, Option, Redacted } from "effect"
import type * as ConfigError from "effect/ConfigError"

/**
 * The connection flags, parsed.
 *
 * @internal
 */
export interface ConnectionFlags {
  readonly baseUrl: Option.Option<string>
  readonly cluster: Option.Option<string>
  readonly project: Option.Option<string>
  readonly clientName: Option.Option<string>
  readonly token: Option.Option<Redacted.Redacted>
  readonly loginFlow: Option.Option<"client_credentials" | "token">
  readonly tokenUrl: Option.Option<string>
  readonly tenantId: Option.Option<string>
  readonly clientId: Option.Option<string>
  readonly clientSecret: Option.Option<Redacted.Redacted>
  readonly scopes: Option.Option<string>
  readonly audience: Option.Option<string>
  readonly allowInsecureHttp: boolean
  readonly envFile: Option.Option<string>
}

/**
 * The environment names that say "talk to a CDF project" (any one of them set means: do not use the emulator).
 *
 * @internal
 */
export const cdfNames = [
  "CDF_URL",
  "CDF_CLUSTER",
  "CDF_PROJECT",
  "CDF_TOKEN",
  "LOGIN_FLOW",
  "IDP_TOKEN_URL",
  "IDP_TENANT_ID",
  "IDP_CLIENT_ID",
  "IDP_CLIENT_SECRET"
] as const

/**
 * The proxy names undici's environment proxy agent reads.
 *
 * @internal
 */
export const proxyNames = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] as const

const flagEntries = (flags: ConnectionFlags): ReadonlyArray<readonly [string, string]> => {
  const entries: Array<readonly [string, string]> = []
  const add = (name: string, value: Option.Option<string>) => {
    if (Option.isSome(value)) entries.push([name, value.value])
  }
  add("CDF_URL", flags.baseUrl)
  add("CDF_CLUSTER", flags.cluster)
  add("CDF_PROJECT", flags.project)
  add("CDF_CLIENT_NAME", flags.clientName)
  add("CDF_TOKEN", Option.map(flags.token, Redacted.value))
  add("LOGIN_FLOW", flags.loginFlow)
  add("IDP_TOKEN_URL", flags.tokenUrl)
  add("IDP_TENANT_ID", flags.tenantId)
  add("IDP_CLIENT_ID", flags.clientId)
  add("IDP_CLIENT_SECRET", Option.map(flags.clientSecret, Redacted.value))
  add("IDP_SCOPES", flags.scopes)
  add("IDP_AUDIENCE", flags.audience)
  return entries
}

/**
 * The settings the command runs with.
 *
 * @internal
 */
export interface Settings {
  /** Flags, then the environment, then the `.env` file. */
  readonly provider: ConfigProvider.ConfigProvider
  /** Whether any CDF setting was given; if not, `upload` stops with a usage error (unless `--emulator`). */
  readonly hasCdfSettings: boolean
  /** The `.env` file that was read, if one was. */
  readonly envFile: string | undefined
  /** `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` (either case) as found, `.env` included. */
  readonly proxy: ReadonlyMap<string, string>
  readonly allowInsecureHttp: boolean
  /** Client credentials (`LOGIN_FLOW=client_credentials`, or a client id without `LOGIN_FLOW`), else a token. */
  readonly credentials: "token" | "client_credentials"
}

/**
 * Reads the `.env` file (`--dotenv`, else `./.env` when it exists) and layers flags, environment and file.
 * A missing `--dotenv` file fails with its message; a missing `./.env` is not an error.
 *
 * @internal
 */
export const resolve = (
  flags: ConnectionFlags,
  env: ConfigProvider.ConfigProvider = ConfigProvider.fromEnv()
): Effect.Effect<Settings, string, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const explicit = Option.getOrUndefined(flags.envFile)
    const path = explicit ?? ".env"
    const exists = yield* fs.exists(path).pipe(Effect.orElseSucceed(() => false))
    let dotEnvProvider: ConfigProvider.ConfigProvider | undefined
    if (exists) {
      dotEnvProvider = yield* PlatformConfigProvider.fromDotEnv(path).pipe(
        Effect.mapError((error) => `cannot read ${path}: ${error.message}`)
      )
    } else if (explicit !== undefined) {
      return yield* Effect.fail(`the --dotenv file ${explicit} does not exist`)
    }
    let provider = ConfigProvider.fromMap(new Map(flagEntries(flags))).pipe(ConfigProvider.orElse(() => env))
    if (dotEnvProvider !== undefined) {
      const fallback = dotEnvProvider
      provider = provider.pipe(ConfigProvider.orElse(() => fallback))
    }
    const read = (name: string) =>
      Config.string(name).pipe(
        Effect.withConfigProvider(provider),
        Effect.option,
        Effect.map(Option.filter((value) => value.trim() !== ""))
      )
    const present = yield* Effect.forEach(cdfNames, read)
    const loginFlow = Option.getOrUndefined(yield* read("LOGIN_FLOW"))
    const clientId = yield* read("IDP_CLIENT_ID")
    const proxy: Array<readonly [string, string]> = []
    for (const name of proxyNames) {
      const value = yield* read(name)
      if (Option.isSome(value)) proxy.push([name, value.value])
    }
    return {
      provider,
      hasCdfSettings: present.some(Option.isSome),
      envFile: exists ? path : undefined,
      proxy: new Map(proxy),
      allowInsecureHttp: flags.allowInsecureHttp,
      credentials: loginFlow === "client_credentials" || (loginFlow === undefined && Option.isSome(clientId))
        ? "client_credentials"
        : "token"
    }
  })

/** What `upload`, `sync` and `runner` say when no CDF setting is found anywhere. @internal */
export const noSettings = [
  "no CDF settings found. Set, as flags, in the environment or in ./.env:",
  "  CDF_URL (or CDF_CLUSTER) and CDF_PROJECT, and",
  "  CDF_TOKEN, or the client credentials IDP_CLIENT_ID, IDP_CLIENT_SECRET and IDP_TOKEN_URL (or IDP_TENANT_ID).",
  "To try cdf-files without CDF, pass --emulator."
].join("\n")

const flagOf: Readonly<Record<string, string>> = {
  CDF_URL: "--base-url",
  CDF_CLUSTER: "--cluster",
  CDF_PROJECT: "--project",
  CDF_TOKEN: "--token",
  IDP_CLIENT_ID: "--client-id",
  IDP_CLIENT_SECRET: "--client-secret"
}

/** A `ConfigError` of the settings in words, naming the flag of each missing setting. @internal */
export const describeConfigError = (error: ConfigError.ConfigError): string => {
  const missing = [...new Set([...error.message.matchAll(/Missing data at ([A-Z_]+)/g)].map((match) => match[1]))]
  if (missing.length === 0) return `configuration: ${error.message}`
  const names = missing.map((name) => flagOf[name] === undefined ? name : `${name} (${flagOf[name]})`)
  return `missing setting${names.length > 1 ? "s" : ""}: ${names.join(", ")}; set ${
    names.length > 1 ? "them" : "it"
  } in the environment, ./.env or by flag`
}
