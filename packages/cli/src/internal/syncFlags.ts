/**
 * The flags of `cdf-files sync` and `cdf-files jobs`, as @effect/cli `Options`.
 *
 * @internal
 */
import { Args, HelpDoc, Options, ValidationError } from "@effect/cli"
import { Effect, Either } from "effect"
import { connection } from "./flags.js"
import { parseInteger } from "./parse.js"
import * as Help from "./syncHelp.js"
import { textOf } from "./help.js"

const text = (name: string) => textOf(Help.sync, name)

/**
 * The flags of `cdf-files sync`.
 *
 * @internal
 */
export const sync = {
  dir: Args.text({ name: "dir" }).pipe(Args.withDescription("the directory to sync")),
  externalIdPrefix: Options.text("external-id-prefix").pipe(Options.withDescription(text("external-id-prefix"))),
  directory: Options.text("directory").pipe(Options.withDescription(text("directory")), Options.optional),
  include: Options.text("include").pipe(Options.withDescription(text("include")), Options.repeated),
  exclude: Options.text("exclude").pipe(Options.withDescription(text("exclude")), Options.repeated),
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription(text("dry-run"))),
  checksum: Options.boolean("checksum").pipe(Options.withDescription(text("checksum"))),
  concurrency: Options.text("concurrency").pipe(
    Options.withDescription(text("concurrency")),
    Options.withDefault("8"),
    Options.mapEffect((value) =>
      Either.match(parseInteger("concurrency", value, 1, 64), {
        onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
        onRight: Effect.succeed
      })
    )
  ),
  batchSize: Options.text("batch-size").pipe(
    Options.withDescription(text("batch-size")),
    Options.mapEffect((value) =>
      Either.match(parseInteger("batch-size", value, 1, 1000), {
        onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
        onRight: Effect.succeed
      })
    ),
    Options.optional
  ),
  state: Options.text("state").pipe(Options.withDescription(text("state")), Options.optional),
  failures: Options.text("failures").pipe(Options.withDescription(text("failures")), Options.optional),
  json: Options.boolean("json").pipe(Options.withDescription(text("json"))),
  quiet: Options.boolean("quiet").pipe(Options.withAlias("q"), Options.withDescription(text("quiet"))),
  emulator: Options.boolean("emulator").pipe(Options.withDescription(text("emulator"))),
  ...connection
} as const

/**
 * The flags of `cdf-files jobs`.
 *
 * @internal
 */
export const jobs = {
  state: Options.text("state").pipe(Options.withDescription(textOf(Help.jobs, "state")), Options.optional),
  json: Options.boolean("json").pipe(Options.withDescription(textOf(Help.jobs, "json")))
} as const

/**
 * The flags of `cdf-files runner`.
 *
 * @internal
 */
export const runner = {
  state: Options.text("state").pipe(Options.withDescription(textOf(Help.runner, "state"))),
  host: Options.text("host").pipe(Options.withDescription(textOf(Help.runner, "host")), Options.withDefault("127.0.0.1")),
  port: Options.text("port").pipe(
    Options.withDescription(textOf(Help.runner, "port")),
    Options.withDefault("34431"),
    Options.mapEffect((value) =>
      Either.match(parseInteger("port", value, 1, 65535), {
        onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
        onRight: Effect.succeed
      })
    )
  ),
  listenHost: Options.text("listen-host").pipe(Options.withDescription(textOf(Help.runner, "listen-host")), Options.optional),
  ...connection
} as const
