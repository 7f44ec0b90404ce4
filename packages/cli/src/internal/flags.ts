/**
 * The flags of `cdf-files`, as @effect/cli `Options`.
 *
 * @internal
 */
import { Args, HelpDoc, Options, ValidationError } from "@effect/cli"
import { FileMetadata } from "@effect-cdf/files"
import { Duration, Effect, Either, Option, ParseResult, Schema } from "effect"
import { parseDuration, parseEntry, parseId, parseTime } from "./parse.js"

const invalid = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

const fromEither = <A>(either: Either.Either<A, string>): Effect.Effect<A, ValidationError.ValidationError> =>
  Either.match(either, { onLeft: (message) => Effect.fail(invalid(message)), onRight: Effect.succeed })

const decodeGeoLocation = Schema.decodeUnknownEither(Schema.parseJson(FileMetadata.GeoLocation))

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

const time = (name: string, description: string) =>
  Options.text(name).pipe(
    Options.withDescription(description),
    Options.optional,
    Options.mapEffect(Option.match({
      onNone: () => Effect.succeed(Option.none<number>()),
      onSome: (text) => Effect.map(fromEither(parseTime(name, text)), Option.some)
    }))
  )

const ids = (name: string, description: string) =>
  Options.text(name).pipe(
    Options.withDescription(description),
    Options.repeated,
    Options.mapEffect((texts) => Effect.forEach(texts, (text) => fromEither(parseId(name, text))))
  )

/**
 * The connection flags: each one stands for the environment variable named in its description and wins over it.
 *
 * @internal
 */
export const connection = {
  baseUrl: optionalText("base-url", "CDF API URL, e.g. https://api.cognitedata.com (env CDF_URL)"),
  cluster: optionalText("cluster", "CDF cluster, giving https://{cluster}.cognitedata.com (env CDF_CLUSTER)"),
  project: optionalText("project", "CDF project (env CDF_PROJECT)"),
  clientName: optionalText("client-name", "name sent as x-cdp-app (env CDF_CLIENT_NAME)"),
  token: Options.redacted("token").pipe(
    Options.withDescription("a bearer token (env CDF_TOKEN)"),
    Options.optional
  ),
  loginFlow: Options.choice("login-flow", ["client_credentials", "token"]).pipe(
    Options.withDescription("how to get a token (env LOGIN_FLOW)"),
    Options.optional
  ),
  tokenUrl: optionalText("token-url", "OAuth2 token endpoint (env IDP_TOKEN_URL)"),
  tenantId: optionalText("tenant-id", "Entra ID tenant, giving its token endpoint (env IDP_TENANT_ID)"),
  clientId: optionalText("client-id", "OAuth2 client id (env IDP_CLIENT_ID)"),
  clientSecret: Options.redacted("client-secret").pipe(
    Options.withDescription("OAuth2 client secret (env IDP_CLIENT_SECRET; prefer the environment)"),
    Options.optional
  ),
  scopes: optionalText("scopes", "OAuth2 scopes, comma- or space-separated (env IDP_SCOPES)"),
  audience: optionalText("audience", "OAuth2 audience (env IDP_AUDIENCE)"),
  allowInsecureHttp: Options.boolean("allow-insecure-http").pipe(
    Options.withDescription("accept plain http:// to a host that is not loopback")
  ),
  // not --env-file: Node 20 takes that flag for itself wherever it appears on the command line
  envFile: Options.file("dotenv").pipe(
    Options.withDescription("read settings from this file instead of ./.env"),
    Options.optional
  )
} as const

/**
 * The flags of `cdf-files upload`.
 *
 * @internal
 */
export const upload = {
  paths: Args.text({ name: "path" }).pipe(
    Args.withDescription("files or directories to upload"),
    Args.atLeast(1),
    Args.mapEffect((paths) => {
      const flag = paths.find((path) => /^-./.test(path))
      return flag === undefined
        ? Effect.succeed(paths)
        : Effect.fail(HelpDoc.p(`unknown flag ${flag} (see cdf-files upload --help; write ./${flag} for a file of that name)`))
    })
  ),
  recursive: Options.boolean("recursive").pipe(
    Options.withAlias("r"),
    Options.withDescription("descend into subdirectories of directory arguments")
  ),
  name: optionalText("name", "the file name in CDF (one file only; default: the file's own name)"),
  externalId: optionalText("external-id", "the external id (one file only)"),
  externalIdPrefix: optionalText(
    "external-id-prefix",
    "give every file the external id <prefix><path relative to its directory argument>"
  ),
  directory: optionalText("directory", "the CDF directory (absolute, e.g. /reports); subdirectories are appended"),
  source: optionalText("source", "the source of the files"),
  mimeType: optionalText("mime-type", "the MIME type (default: guessed from the extension)"),
  metadata: Options.text("metadata").pipe(
    Options.withDescription("a metadata entry key=value (repeat the flag for more)"),
    Options.repeated,
    Options.mapEffect((entries) =>
      Effect.map(
        Effect.forEach(entries, (entry) => fromEither(parseEntry("metadata", entry))),
        (pairs) => pairs.length === 0 ? Option.none() : Option.some(Object.fromEntries(pairs))
      )
    )
  ),
  overwrite: Options.boolean("overwrite").pipe(
    Options.withDescription("replace the content of an existing file with the same external id")
  ),
  labels: Options.text("label").pipe(
    Options.withDescription("a label external id (repeat the flag for more)"),
    Options.repeated
  ),
  assetIds: ids("asset-id", "an asset id to link (repeat the flag for more)"),
  dataSetId: Options.text("data-set-id").pipe(
    Options.withDescription("the data set id"),
    Options.optional,
    Options.mapEffect(Option.match({
      onNone: () => Effect.succeed(Option.none<number>()),
      onSome: (text) => Effect.map(fromEither(parseId("data-set-id", text)), Option.some)
    }))
  ),
  sourceCreatedTime: time("source-created-time", "when the file was created in its source (ISO 8601 or epoch ms)"),
  sourceModifiedTime: time("source-modified-time", "when the file was last modified in its source (ISO 8601 or epoch ms)"),
  securityCategories: ids("security-category", "a security category id (repeat the flag for more)"),
  geoLocation: Options.text("geo-location").pipe(
    Options.withDescription("a GeoJSON Feature, e.g. '{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[10.7,59.9]}}'"),
    Options.optional,
    Options.mapEffect(Option.match({
      onNone: () => Effect.succeed(Option.none<FileMetadata.GeoLocation>()),
      onSome: (text) =>
        Either.match(decodeGeoLocation(text), {
          onLeft: (error) =>
            Effect.fail(invalid(`--geo-location: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)),
          onRight: (geoLocation) => Effect.succeed(Option.some(geoLocation))
        })
    }))
  ),
  concurrency: Options.integer("concurrency").pipe(
    Options.withDescription("files uploaded at the same time"),
    Options.withDefault(4),
    Options.mapEffect((n) =>
      n >= 1 && n <= 64 ? Effect.succeed(n) : Effect.fail(invalid(`--concurrency: ${n} is not between 1 and 64`))
    )
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription("print one JSON object per file and a summary (for scripts)")
  ),
  ...connection
} as const

/**
 * The flags of `cdf-files emulator`.
 *
 * @internal
 */
export const emulator = {
  port: Options.integer("port").pipe(
    Options.withDescription("port of the API (0: any free port)"),
    Options.withDefault(4000)
  ),
  host: Options.text("host").pipe(
    Options.withDescription("address to bind"),
    Options.withDefault("127.0.0.1")
  ),
  storageOrigin: Options.choice("storage-origin", ["same", "separate"]).pipe(
    Options.withDescription("upload URLs on the API origin, or on a second listener (as real CDF does)"),
    Options.withDefault("same" as const)
  ),
  storagePort: Options.integer("storage-port").pipe(
    Options.withDescription("port of the storage listener with --storage-origin separate (0: any free port)"),
    Options.withDefault(0)
  ),
  dataDir: Options.directory("data-dir").pipe(
    Options.withDescription("keep uploaded content in this directory instead of memory"),
    Options.optional
  ),
  tokenLifetime: Options.text("token-lifetime").pipe(
    Options.withDescription("lifetime of issued tokens: seconds, or e.g. \"1 hour\" (default 1 hour)"),
    Options.optional,
    Options.mapEffect(Option.match({
      onNone: () => Effect.succeed(Option.none<Duration.Duration>()),
      onSome: (text) => Effect.map(fromEither(parseDuration("token-lifetime", text)), Option.some)
    }))
  ),
  project: Options.text("project").pipe(Options.withDescription("the project name"), Options.withDefault("emulator")),
  clientId: Options.text("client-id").pipe(
    Options.withDescription("client id accepted by the token endpoint"),
    Options.withDefault("emulator-client")
  ),
  clientSecret: Options.text("client-secret").pipe(
    Options.withDescription("client secret accepted by the token endpoint"),
    Options.withDefault("emulator-secret")
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription("print one JSON line {baseUrl, project, token, tokenUrl, clientId, clientSecret}")
  )
} as const
