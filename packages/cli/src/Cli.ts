/**
 * The `cdf-files` command: `cdf-files upload <path...>` uploads files and directories to CDF Files, and
 * `cdf-files emulator` starts a local CDF Files emulator. Settings come from flags, the environment and a `.env`
 * file (the names of cognite-toolkit); with no CDF setting at all, `upload` is a usage error unless `--emulator`
 * asks for an emulator started in-process. `--help` is this package's own plain text (see internal/help.ts).
 *
 * Exit codes: 0 ok, 1 unexpected failure, 2 usage error, 3 auth error, 4 upload or API failure, 130 interrupted.
 *
 * @since 0.1.0
 */
import { Command, HelpDoc, ValidationError } from "@effect/cli"
import * as Doc from "@effect/printer/Doc"
import type { CliApp } from "@effect/cli"
import type { Emulator } from "@effect-cdf/emulator"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import * as FileSystem from "@effect/platform/FileSystem"
import type { ServeError } from "@effect/platform/HttpServerError"
import { CdfConfig, Files } from "@effect-cdf/files"
import type { InvalidConfigError } from "@effect-cdf/files/CdfError"
import type * as ConfigError from "effect/ConfigError"
import type * as Path from "@effect/platform/Path"
import { Console, Context, Effect, Layer, Option, Redacted } from "effect"
import * as Flags from "./internal/flags.js"
import * as Help from "./internal/help.js"
import * as Layers from "./internal/layers.js"
import { plan, stdinArgument, stdinFile, UsageError } from "./internal/plan.js"
import { walk } from "./internal/walk.js"
import { ExitCode } from "./internal/report.js"
import type { Output as RunnerOutput, Uploader } from "./internal/runner.js"
import { runUploads } from "./internal/runner.js"
import { resolve } from "./internal/settings.js"
import { runnerCommand } from "./internal/runnerCommand.js"
import { jobsCommand, syncCommand } from "./internal/syncCommand.js"
import * as SyncHelp from "./internal/syncHelp.js"

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
  // progress redraws with escape codes: only on a terminal, and not with NO_COLOR (https://no-color.org) or TERM=dumb
  isTTY: process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb",
  columns: () => process.stdout.columns || 80
}

const version = "0.1.0"

/** Runs `effect` with a console without error output: `run` prints each error itself, once, in plain words. */
/** A defect in words, with the causes it wraps (a SqlError says only "Failed to execute statement"; its cause says why). */
const describeDefect = (defect: unknown): string => {
  const words: Array<string> = []
  let current: unknown = defect
  while (current !== undefined && words.length < 4) {
    words.push(current instanceof Error ? current.message : String(current))
    current = current instanceof Error ? current.cause : undefined
  }
  return words.join(": ")
}

const withoutConsoleErrors = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) =>
    Console.withConsole(effect, {
      ...console,
      error: () => Effect.void,
      unsafe: { ...console.unsafe, error: () => {} }
    })
  )

const printError = (output: Output, message: string) => output.err(`cdf-files: ${message}\n`)

const describeEmbedded = (emulator: Emulator.Service) =>
  [
    "cdf-files: --emulator: uploading to an EMBEDDED CDF EMULATOR started in this process:",
    `           ${emulator.baseUrl} (project ${emulator.project}). Nothing reaches CDF, and the files are gone when`,
    "           this command exits. Run `cdf-files emulator` for an emulator that stays up.",
    ""
  ].join("\n")

const noSettings = [
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
      const stdin = yield* stdinFile(flags.paths, flags.name)
      const walked = Option.isSome(stdin)
        ? { files: [stdin.value], skipped: [] }
        : yield* walk(flags.paths, { recursive: flags.recursive, followSymlinks: flags.followSymlinks })
      if (walked.files.length === 0 && walked.skipped.length > 0) {
        return yield* Effect.fail(
          new UsageError(`no files to upload: ${walked.skipped.map((s) => `${s.path} is ${s.reason}`).join("; ")}`)
        )
      }
      const files = yield* plan(walked.files, flags)
      const settings = yield* resolve(flags).pipe(Effect.mapError((message) => new UsageError(message)))
      if (!settings.hasCdfSettings && !flags.emulator) return yield* Effect.fail(new UsageError(noSettings))
      const mode = flags.json ? "json" : flags.quiet ? "quiet" : output.isTTY ? "tty" : "plain"
      const fs = yield* FileSystem.FileSystem
      const layer: Layer.Layer<
        Files.Files | CdfConfig.CdfConfig,
        ConfigError.ConfigError | InvalidConfigError | ServeError
      > = flags.emulator
        ? Layers.embedded(
          (emulator) => mode === "quiet" || mode === "json" ? Effect.void : output.err(describeEmbedded(emulator)),
          flags.concurrency
        )
        : Layers.fromSettings(settings, flags.concurrency)
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
        const config = Context.get(context, CdfConfig.CdfConfig)
        // What every upload needs is provided once around them all: a provide per file is an uninterruptible
        // region and a copy of the context on every upload.
        const uploader: Uploader<Files.Files | FileSystem.FileSystem> = (file, onProgress) => {
          const options = onProgress === undefined ? file.options : { ...file.options, onProgress }
          return file.stdin
            ? Files.uploadBytes(process.stdin, options).pipe(Effect.provide(NodeFiles.layer))
            : file.size === undefined
            ? NodeFiles.uploadFile(file.path, options)
            // the walk measured it: no second stat per file
            : Effect.flatMap(NodeFiles.contentOfSize(file.path, file.size), (content) => Files.uploadBytes(content, options))
        }
        return yield* runUploads({
          files,
          uploader,
          concurrency: flags.concurrency,
          mode,
          output,
          skipped: walked.skipped,
          target: { baseUrl: config.baseUrl, project: config.project, emulator: flags.emulator },
          credentials: flags.emulator ? "emulator" : settings.credentials
        }).pipe(Effect.provide(context), Effect.provideService(FileSystem.FileSystem, fs))
      }))
      if (summary.exitCode !== ExitCode.ok) return yield* Effect.fail(new CliExit(summary.exitCode))
    })).pipe(Command.withDescription(Help.upload.summary))

const emulatorCommand = (output: Output) =>
  Command.make("emulator", Flags.emulator, (flags) =>
    Effect.scoped(Effect.gen(function*() {
      // loaded only by this command: the emulator and its HTTP server are most of the CLI's start-up
      if (flags.noCors && flags.corsOrigin.length > 0) {
        return yield* Effect.fail(new UsageError("--no-cors and --cors-origin contradict each other: give one of them"))
      }
      const { Emulator: EmulatorModule } = yield* Effect.promise(() => import("@effect-cdf/emulator"))
      const emulator = yield* EmulatorModule.makeServer({
        port: flags.port,
        host: flags.host,
        project: flags.project,
        clientId: flags.clientId,
        storageOrigin: flags.storageOrigin,
        storagePort: flags.storagePort,
        allowRemote: flags.allowRemote,
        cors: flags.noCors ? false : flags.corsOrigin.length > 0 ? flags.corsOrigin : true,
        // without a secret given: the emulator's own default (random with --allow-remote)
        ...(Option.isSome(flags.clientSecret) ? { clientSecret: Redacted.value(flags.clientSecret.value) } : {}),
        ...(Option.isSome(flags.dataDir) ? { dataDir: flags.dataDir.value } : {}),
        ...(Option.isSome(flags.tokenLifetime) ? { tokenLifetime: flags.tokenLifetime.value } : {}),
        ...(Option.isSome(flags.uploadUrlLifetime) ? { uploadUrlLifetime: flags.uploadUrlLifetime.value } : {})
      }).pipe(Effect.mapError((error) => new UsageError(`cannot start the emulator: ${error.message}`)))
      const token = Redacted.value(emulator.token)
      if (flags.json) {
        yield* output.out(JSON.stringify({
          baseUrl: emulator.baseUrl,
          project: emulator.project,
          token,
          tokenUrl: emulator.tokenUrl,
          clientId: emulator.clientId,
          clientSecret: Redacted.value(emulator.clientSecret)
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
    }))).pipe(Command.withDescription(Help.emulator.summary))

/**
 * The `cdf-files` command with its subcommands, writing to `output`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = (output: Output = processOutput) => command_(output)

const command_ = (output: Output) =>
  Command.make("cdf-files").pipe(
    Command.withDescription(Help.root.summary),
    Command.withSubcommands([
      uploadCommand(output),
      syncCommand({ output, noSettings, describeConfigError, describeEmbedded }),
      jobsCommand({ output, noSettings, describeConfigError, describeEmbedded }),
      runnerCommand({ output, noSettings, describeConfigError, describeEmbedded }),
      emulatorCommand(output)
    ])
  )

/** @effect/cli's message for a `ValidationError`, in plain words. */
const describeValidation = (error: ValidationError.ValidationError): string => {
  const text = Doc.render(Doc.unAnnotate(HelpDoc.toAnsiDoc(error.error)), { style: "pretty" }).trim()
  if (/^Missing argument <path>/.test(text)) {
    return "no path given: name the files or directories to upload, or - for standard input"
  }
  const subcommand = /^Invalid subcommand for cdf-files/.test(text)
  if (subcommand) return "unknown command: use cdf-files upload, sync, jobs, runner or emulator"
  return text.replace(/^Received unknown argument: '(.*)'$/, "unexpected argument '$1'")
}

const takesValue = new Set(
  Help.upload.sections.flatMap((section) => section.flags.filter((flag) => flag.value !== undefined)).flatMap((flag) =>
    flag.alias === undefined ? [`--${flag.name}`] : [`--${flag.name}`, `-${flag.alias}`]
  )
)

/**
 * `-` (standard input) as a path, replaced by `stdinArgument`: @effect/cli takes a lone `-` as the end of the flags.
 * A `-` that is the value of a flag stays as it is.
 */
const markStdin = (argv: ReadonlyArray<string>): ReadonlyArray<string> =>
  argv.map((arg, i) =>
    i > 2 && arg === "-" && argv[i - 1] !== "--" && !takesValue.has(argv[i - 1]) && !argv.slice(2, i).includes("--")
      ? stdinArgument
      : arg
  )

const commands = ["upload", "sync", "jobs", "runner", "emulator"] as const

const commandOf = (args: ReadonlyArray<string>): typeof commands[number] | undefined =>
  (commands as ReadonlyArray<string>).includes(args[0]) ? args[0] as typeof commands[number] : undefined

const helpOf = {
  upload: Help.upload,
  emulator: Help.emulator,
  sync: SyncHelp.sync,
  jobs: SyncHelp.jobs,
  runner: SyncHelp.runner
}

/**
 * Runs `cdf-files` on the command line `argv` (as `process.argv`: runtime and script first) and gives the exit code.
 * Every failure is printed as one message without a stack trace (with `--json`, also as a JSON object on stdout);
 * interruption (Ctrl-C) is left to the caller, which exits with 130.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  argv: ReadonlyArray<string>,
  output: Output = processOutput
): Effect.Effect<number, never, CliApp.CliApp.Environment | FileSystem.FileSystem | Path.Path> => {
  const args = argv.slice(2)
  const end = args.indexOf("--")
  const flags = end === -1 ? args : args.slice(0, end)
  const command = commandOf(args)
  const docs = command === undefined ? Help.root : helpOf[command]
  if (flags.includes("--help") || flags.includes("-h")) return Effect.as(output.out(Help.render(docs)), ExitCode.ok)
  if (args.length === 0) return Effect.as(output.err(Help.render(Help.root)), ExitCode.usage)
  if (command === undefined && flags.includes("--version")) return Effect.as(output.out(`cdf-files ${version}\n`), ExitCode.ok)
  const json = flags.includes("--json")
  const usage = (message: string) =>
    Effect.as(
      Effect.zipRight(
        output.err(`cdf-files: ${message}\nRun 'cdf-files ${command ?? ""}${command === undefined ? "" : " "}--help' for help.\n`),
        json && (command === "upload" || command === "sync")
          ? output.out(JSON.stringify({ type: "error", exitCode: ExitCode.usage, message }) + "\n")
          : Effect.void
      ),
      ExitCode.usage
    )
  return Command.run(command_(output), { name: "cdf-files", version })(command === "upload" ? markStdin(argv) : argv).pipe(
    Effect.as(ExitCode.ok),
    // @effect/cli prints its own (ANSI-coloured) error text: this prints it once, in plain words
    withoutConsoleErrors,
    Effect.catchAll((error): Effect.Effect<number> => {
      if (ValidationError.isValidationError(error)) return usage(describeValidation(error))
      if (error instanceof UsageError) return usage(error.message)
      return Effect.succeed(error.code)
    }),
    Effect.catchAllDefect((defect) =>
      Effect.as(
        printError(output, `unexpected failure: ${describeDefect(defect)}`),
        ExitCode.failure
      )
    )
  )
}
