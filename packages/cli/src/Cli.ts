/**
 * The `cdf-files` command: `cdf-files upload <path...>` uploads files and directories to CDF Files, and
 * `cdf-files emulator` starts a local CDF Files emulator. Settings come from flags, the environment and a `.env`
 * file (the names of cognite-toolkit); with no CDF setting at all, `upload` uses an emulator started in-process.
 *
 * Exit codes: 0 ok, 1 unexpected failure, 2 usage error, 3 auth error, 4 upload or API failure, 130 interrupted.
 *
 * @since 0.1.0
 */
import { Command, ValidationError } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import type { Emulator } from "@effect-cdf/emulator"
import { Emulator as EmulatorModule } from "@effect-cdf/emulator"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import * as FileSystem from "@effect/platform/FileSystem"
import type { ServeError } from "@effect/platform/HttpServerError"
import type { Files } from "@effect-cdf/files"
import type { InvalidConfigError } from "@effect-cdf/files/CdfError"
import type * as ConfigError from "effect/ConfigError"
import type * as Path from "@effect/platform/Path"
import { Effect, Layer, Option, Redacted } from "effect"
import * as Flags from "./internal/flags.js"
import * as Layers from "./internal/layers.js"
import { collect, plan, UsageError } from "./internal/plan.js"
import { ExitCode } from "./internal/report.js"
import type { Output as RunnerOutput, Uploader } from "./internal/runner.js"
import { runUploads } from "./internal/runner.js"
import { resolve } from "./internal/settings.js"

/**
 * The command ended with a non-zero exit code; what it had to say was already printed.
 *
 * @since 0.1.0
 * @category errors
 */
export class CliExit {
  /** @since 0.1.0 */
  readonly _tag = "CliExit"
  constructor(readonly code: number) {}
}

/**
 * Where the command writes; `processOutput` is the real one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Output extends RunnerOutput {}

/**
 * stdout and stderr of this process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const processOutput: Output = {
  out: (text) => Effect.sync(() => void (process.stdout.destroyed || process.stdout.write(text))),
  err: (text) => Effect.sync(() => void (process.stderr.destroyed || process.stderr.write(text))),
  isTTY: process.stdout.isTTY === true,
  columns: () => process.stdout.columns || 80
}

const printError = (output: Output, message: string) => output.err(`cdf-files: ${message}\n`)

const describeEmbedded = (emulator: Emulator.Service) =>
  [
    "cdf-files: no CDF settings found (CDF_URL or CDF_CLUSTER, CDF_PROJECT, CDF_TOKEN or IDP_CLIENT_ID, in flags,",
    "           the environment or ./.env), so uploading to an EMBEDDED CDF EMULATOR started in this process:",
    `           ${emulator.baseUrl} (project ${emulator.project}). Nothing reaches CDF, and the files are gone when`,
    "           this command exits. Run `cdf-files emulator` for an emulator that stays up.",
    ""
  ].join("\n")

const flagOf: Readonly<Record<string, string>> = {
  CDF_URL: "--base-url",
  CDF_CLUSTER: "--cluster",
  CDF_PROJECT: "--project",
  CDF_TOKEN: "--token",
  IDP_CLIENT_ID: "--client-id",
  IDP_CLIENT_SECRET: "--client-secret"
}

const describeConfigError = (error: ConfigError.ConfigError): string => {
  const missing = [...new Set([...error.message.matchAll(/Missing data at ([A-Z_]+)/g)].map((match) => match[1]))]
  if (missing.length === 0) return `configuration: ${error.message}`
  const names = missing.map((name) => flagOf[name] === undefined ? name : `${name} (${flagOf[name]})`)
  return `missing setting${names.length > 1 ? "s" : ""}: ${names.join(", ")}; set ${
    names.length > 1 ? "them" : "it"
  } in the environment, ./.env or by flag`
}

const uploadCommand = (output: Output) =>
  Command.make("upload", Flags.upload, (flags) =>
    Effect.gen(function*() {
      const settings = yield* resolve(flags).pipe(Effect.mapError((message) => new UsageError(message)))
      const found = yield* collect(flags.paths, flags.recursive)
      const files = yield* plan(found, flags)
      const mode = flags.json ? "json" : output.isTTY ? "tty" : "plain"
      const fs = yield* FileSystem.FileSystem
      const layer: Layer.Layer<Files.Files, ConfigError.ConfigError | InvalidConfigError | ServeError> = settings
          .hasCdfSettings
        ? Layers.fromSettings(settings, flags.concurrency)
        : Layers.embedded((emulator) => output.err(describeEmbedded(emulator)), flags.concurrency)
      const summary = yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(layer).pipe(
          Effect.catchTags({
            ConfigError: (error) => Effect.fail(new UsageError(describeConfigError(error))),
            InvalidConfigError: (error) =>
              Effect.fail(
                new UsageError(`configuration: ${error.message.replace("set allowInsecureHttp", "pass --allow-insecure-http")}`)
              ),
            ServeError: (error) =>
              Effect.zipRight(
                printError(output, `cannot start the embedded emulator: ${error.message}`),
                Effect.fail(new CliExit(ExitCode.failure))
              )
          })
        )
        const uploader: Uploader = (file, onProgress) =>
          NodeFiles.uploadFile(file.path, { ...file.options, onProgress }).pipe(
            Effect.provide(context),
            Effect.provideService(FileSystem.FileSystem, fs)
          )
        return yield* runUploads({ files, uploader, concurrency: flags.concurrency, mode, output })
      }))
      if (summary.exitCode !== ExitCode.ok) return yield* Effect.fail(new CliExit(summary.exitCode))
    })).pipe(Command.withDescription("Upload files and directories to CDF Files."))

const emulatorCommand = (output: Output) =>
  Command.make("emulator", Flags.emulator, (flags) =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* EmulatorModule.makeServer({
        port: flags.port,
        host: flags.host,
        project: flags.project,
        clientId: flags.clientId,
        clientSecret: flags.clientSecret,
        storageOrigin: flags.storageOrigin,
        storagePort: flags.storagePort,
        ...(Option.isSome(flags.dataDir) ? { dataDir: flags.dataDir.value } : {}),
        ...(Option.isSome(flags.tokenLifetime) ? { tokenLifetime: flags.tokenLifetime.value } : {})
      }).pipe(Effect.mapError((error) => new UsageError(`cannot start the emulator: ${error.message}`)))
      const token = Redacted.value(emulator.token)
      if (flags.json) {
        yield* output.out(JSON.stringify({
          baseUrl: emulator.baseUrl,
          project: emulator.project,
          token,
          tokenUrl: emulator.tokenUrl,
          clientId: emulator.clientId,
          clientSecret: Redacted.value(emulator.clientSecret),
          storageUrl: emulator.storageUrl
        }) + "\n")
      } else {
        yield* output.out([
          `CDF Files emulator listening on ${emulator.baseUrl} (project ${emulator.project}).`,
          "Point cdf-files (or the library) at it with:",
          `  CDF_URL=${emulator.baseUrl}`,
          `  CDF_PROJECT=${emulator.project}`,
          `  CDF_TOKEN=${token}`,
          `or client credentials: IDP_TOKEN_URL=${emulator.tokenUrl} IDP_CLIENT_ID=${emulator.clientId} ` +
          `IDP_CLIENT_SECRET=${Redacted.value(emulator.clientSecret)} IDP_SCOPES=${emulator.baseUrl}/.default`,
          "Stop it with Ctrl-C.",
          ""
        ].join("\n"))
      }
      return yield* Effect.never
    }))).pipe(Command.withDescription("Start a local CDF Files emulator (a real HTTP server)."))

/**
 * The `cdf-files` command with its subcommands, writing to `output`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = (output: Output = processOutput) =>
  Command.make("cdf-files").pipe(
    Command.withDescription("Upload files to Cognite Data Fusion, or run a local CDF Files emulator."),
    Command.withSubcommands([uploadCommand(output), emulatorCommand(output)])
  )

/**
 * Runs `cdf-files` on the command line `argv` (as `process.argv`: runtime and script first) and gives the exit code.
 * Every failure is printed as one message without a stack trace; interruption (Ctrl-C) is left to the caller, which
 * exits with 130.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  argv: ReadonlyArray<string>,
  output: Output = processOutput
): Effect.Effect<number, never, CliApp.CliApp.Environment | FileSystem.FileSystem | Path.Path> =>
  Command.run(command(output), { name: "cdf-files", version: "0.1.0" })(argv).pipe(
    Effect.as(ExitCode.ok),
    Effect.catchAll((error): Effect.Effect<number> => {
      if (ValidationError.isValidationError(error)) return Effect.succeed(ExitCode.usage)
      if (error instanceof UsageError) {
        return Effect.as(
          output.err(`cdf-files: ${error.message}\nRun 'cdf-files upload --help' for the flags.\n`),
          ExitCode.usage
        )
      }
      return Effect.succeed(error.code)
    }),
    Effect.catchAllDefect((defect) =>
      Effect.as(
        printError(output, `unexpected failure: ${defect instanceof Error ? defect.message : String(defect)}`),
        ExitCode.failure
      )
    )
  )
