/**
 * The flags of `cdf-files`, as @effect/cli `Options`.
 *
 * @internal
 */
import { Args, HelpDoc, Options, ValidationError } from "@effect/cli"
import { FileMetadata } from "@effect-cdf/files"
import { Duration, Effect, Either, Option, ParseResult, Schema } from "effect"
import * as Help from "./help.js"
import { textOf } from "./help.js"
import { parseDuration, parseEntry, parseId, parseInteger, parseTime } from "./parse.js"

const invalid = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

const fromEither = <A>(either: Either.Either<A, string>): Effect.Effect<A, ValidationError.ValidationError> =>
  Either.match(either, { onLeft: (message) => Effect.fail(invalid(message)), onRight: Effect.succeed })

const decodeGeoLocation = Schema.decodeUnknownEither(FileMetadata.GeoLocation)

const geoExample = `'{"type":"Feature","geometry":{"type":"Point","coordinates":[10.7,59.9]}}'`

/** A GeoJSON Feature from its JSON text, or a sentence saying what is wrong with it (never a schema trace). */
const parseGeoLocation = (text: string): Either.Either<FileMetadata.GeoLocation, string> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Either.left(`--geo-location: '${text}' is not JSON; give a GeoJSON Feature such as ${geoExample}`)
  }
  return Either.mapLeft(decodeGeoLocation(json), (error) => {
    const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
    const where = issue === undefined || issue.path.length === 0 ? "" : ` (at ${issue.path.join(".")}: ${issue.message})`
    return `--geo-location: not a GeoJSON Feature with a geometry${where}; give one such as ${geoExample}`
  })
}

/** A whole number flag with a range, said in a sentence when the value is wrong. */
const integer = (name: string, description: string, fallback: number, min: number, max: number) =>
  Options.text(name).pipe(
    Options.withDescription(description),
    Options.withDefault(String(fallback)),
    Options.mapEffect((text) => fromEither(parseInteger(name, text, min, max)))
  )

/** A flag that takes one of a few words, said in a sentence when the value is another. */
const choice = <A extends string>(name: string, description: string, choices: ReadonlyArray<A>) =>
  Options.text(name).pipe(
    Options.withDescription(description),
    Options.mapEffect((text) =>
      (choices as ReadonlyArray<string>).includes(text)
        ? Effect.succeed(text as A)
        : Effect.fail(invalid(`--${name}: '${text}' is not one of ${choices.join(", ")}`))
    )
  )

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
  baseUrl: optionalText("base-url", textOf(Help.upload, "base-url")),
  cluster: optionalText("cluster", textOf(Help.upload, "cluster")),
  project: optionalText("project", textOf(Help.upload, "project")),
  clientName: optionalText("client-name", textOf(Help.upload, "client-name")),
  token: Options.redacted("token").pipe(
    Options.withDescription(textOf(Help.upload, "token")),
    Options.optional
  ),
  loginFlow: choice("login-flow", textOf(Help.upload, "login-flow"), ["client_credentials", "token"] as const).pipe(
    Options.optional
  ),
  tokenUrl: optionalText("token-url", textOf(Help.upload, "token-url")),
  tenantId: optionalText("tenant-id", textOf(Help.upload, "tenant-id")),
  clientId: optionalText("client-id", textOf(Help.upload, "client-id")),
  clientSecret: Options.redacted("client-secret").pipe(
    Options.withDescription(textOf(Help.upload, "client-secret")),
    Options.optional
  ),
  scopes: optionalText("scopes", textOf(Help.upload, "scopes")),
  audience: optionalText("audience", textOf(Help.upload, "audience")),
  allowInsecureHttp: Options.boolean("allow-insecure-http").pipe(
    Options.withDescription(textOf(Help.upload, "allow-insecure-http"))
  ),
  // not --env-file: Node 20 takes that flag for itself wherever it appears on the command line
  envFile: Options.file("dotenv").pipe(
    Options.withDescription(textOf(Help.upload, "dotenv")),
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
    Args.withDescription("files or directories to upload; - for standard input"),
    Args.atLeast(1),
    Args.mapEffect((paths) => {
      const flag = paths.find((path) => /^-./.test(path))
      return flag === undefined
        ? Effect.succeed(paths)
        : Effect.fail(HelpDoc.p(`unknown flag ${flag} (write ./${flag} for a file of that name)`))
    })
  ),
  recursive: Options.boolean("recursive").pipe(
    Options.withAlias("r"),
    Options.withDescription(textOf(Help.upload, "recursive"))
  ),
  name: optionalText("name", textOf(Help.upload, "name")),
  externalId: optionalText("external-id", textOf(Help.upload, "external-id")),
  externalIdPrefix: optionalText("external-id-prefix", textOf(Help.upload, "external-id-prefix")),
  directory: optionalText("directory", textOf(Help.upload, "directory")),
  source: optionalText("source", textOf(Help.upload, "source")),
  mimeType: optionalText("mime-type", textOf(Help.upload, "mime-type")),
  metadata: Options.text("metadata").pipe(
    Options.withDescription(textOf(Help.upload, "metadata")),
    Options.repeated,
    Options.mapEffect((entries) =>
      Effect.map(
        Effect.forEach(entries, (entry) => fromEither(parseEntry("metadata", entry))),
        (pairs) => pairs.length === 0 ? Option.none() : Option.some(Object.fromEntries(pairs))
      )
    )
  ),
  overwrite: Options.boolean("overwrite").pipe(
    Options.withDescription(textOf(Help.upload, "overwrite"))
  ),
  labels: Options.text("label").pipe(
    Options.withDescription(textOf(Help.upload, "label")),
    Options.repeated
  ),
  assetIds: ids("asset-id", textOf(Help.upload, "asset-id")),
  dataSetId: Options.text("data-set-id").pipe(
    Options.withDescription(textOf(Help.upload, "data-set-id")),
    Options.optional,
    Options.mapEffect(Option.match({
      onNone: () => Effect.succeed(Option.none<number>()),
      onSome: (text) => Effect.map(fromEither(parseId("data-set-id", text)), Option.some)
    }))
  ),
  sourceCreatedTime: time("source-created-time", textOf(Help.upload, "source-created-time")),
  sourceModifiedTime: time("source-modified-time", textOf(Help.upload, "source-modified-time")),
  securityCategories: ids("security-category", textOf(Help.upload, "security-category")),
  geoLocation: Options.text("geo-location").pipe(
    Options.withDescription(textOf(Help.upload, "geo-location")),
    Options.optional,
    Options.mapEffect(Option.match({
      onNone: () => Effect.succeed(Option.none<FileMetadata.GeoLocation>()),
      onSome: (text) => Effect.map(fromEither(parseGeoLocation(text)), Option.some)
    }))
  ),
  concurrency: integer("concurrency", textOf(Help.upload, "concurrency"), 4, 1, 64),
  followSymlinks: Options.boolean("follow-symlinks").pipe(
    Options.withDescription(textOf(Help.upload, "follow-symlinks"))
  ),
  quiet: Options.boolean("quiet").pipe(
    Options.withAlias("q"),
    Options.withDescription(textOf(Help.upload, "quiet"))
  ),
  emulator: Options.boolean("emulator").pipe(
    Options.withDescription(textOf(Help.upload, "emulator"))
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription(textOf(Help.upload, "json"))
  ),
  ...connection
} as const

/** An optional duration flag of `cdf-files emulator`: seconds, or e.g. "10 minutes". */
const optionalDuration = (name: string) =>
  Options.text(name).pipe(
    Options.withDescription(textOf(Help.emulator, name)),
    Options.optional,
    Options.mapEffect(Option.match({
      onNone: () => Effect.succeed(Option.none<Duration.Duration>()),
      onSome: (text) => Effect.map(fromEither(parseDuration(name, text)), Option.some)
    }))
  )

/**
 * The flags of `cdf-files emulator`.
 *
 * @internal
 */
export const emulator = {
  port: integer("port", textOf(Help.emulator, "port"), 4000, 0, 65535),
  host: Options.text("host").pipe(
    Options.withDescription(textOf(Help.emulator, "host")),
    Options.withDefault("127.0.0.1")
  ),
  storageOrigin: choice("storage-origin", textOf(Help.emulator, "storage-origin"), ["same", "separate"] as const).pipe(
    Options.withDefault("same" as const)
  ),
  storagePort: integer("storage-port", textOf(Help.emulator, "storage-port"), 0, 0, 65535),
  dataDir: Options.directory("data-dir").pipe(
    Options.withDescription(textOf(Help.emulator, "data-dir")),
    Options.optional
  ),
  tokenLifetime: optionalDuration("token-lifetime"),
  project: Options.text("project").pipe(Options.withDescription(textOf(Help.emulator, "project")), Options.withDefault("emulator")),
  clientId: Options.text("client-id").pipe(
    Options.withDescription(textOf(Help.emulator, "client-id")),
    Options.withDefault("emulator-client")
  ),
  clientSecret: Options.redacted("client-secret").pipe(
    Options.withDescription(textOf(Help.emulator, "client-secret")),
    Options.optional
  ),
  uploadUrlLifetime: optionalDuration("upload-url-lifetime"),
  allowRemote: Options.boolean("allow-remote").pipe(Options.withDescription(textOf(Help.emulator, "allow-remote"))),
  corsOrigin: Options.text("cors-origin").pipe(
    Options.withDescription(textOf(Help.emulator, "cors-origin")),
    Options.repeated
  ),
  noCors: Options.boolean("no-cors").pipe(Options.withDescription(textOf(Help.emulator, "no-cors"))),
  json: Options.boolean("json").pipe(
    Options.withDescription(textOf(Help.emulator, "json"))
  )
} as const
