/**
 * `cdf-files upload <path...>`: walks the paths, plans each file's upload options from the flags, builds the
 * library's layers from the settings (or around an embedded emulator) and runs the uploads (`runner.ts`).
 *
 * @internal
 */
import { Command } from "@effect/cli"
import { CdfConfig, Files } from "@effect-cdf/files"
import type { InvalidConfigError } from "@effect-cdf/files/CdfError"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import * as FileSystem from "@effect/platform/FileSystem"
import type { ServeError } from "@effect/platform/HttpServerError"
import type * as ConfigError from "effect/ConfigError"
import { Context, Effect, Layer, Option } from "effect"
import * as Flags from "./flags.js"
import * as Help from "./help.js"
import * as Layers from "./layers.js"
import { plan, stdinFile, UsageError } from "./plan.js"
import { escapeControl } from "./progress.js"
import { CliExit, ExitCode } from "./report.js"
import { type Output, runUploads, type Uploader } from "./runner.js"
import * as Settings from "./settings.js"
import { walk } from "./walk.js"

/**
 * `cdf-files upload`.
 *
 * @internal
 */
export const uploadCommand = (output: Output) =>
  Command.make("upload", Flags.upload, (flags) =>
    Effect.gen(function*() {
      const stdin = yield* stdinFile(flags.paths, flags.name)
      const walked = Option.isSome(stdin)
        ? { files: [stdin.value], skipped: [] }
        : yield* walk(flags.paths, { recursive: flags.recursive, followSymlinks: flags.followSymlinks })
      if (walked.files.length === 0 && walked.skipped.length > 0) {
        return yield* Effect.fail(
          new UsageError(`no files to upload: ${walked.skipped.map((s) => escapeControl(`${s.path} is ${s.reason}`)).join("; ")}`)
        )
      }
      const files = yield* plan(walked.files, flags)
      const settings = yield* Settings.resolve(flags).pipe(Effect.mapError((message) => new UsageError(message)))
      if (!settings.hasCdfSettings && !flags.emulator) return yield* Effect.fail(new UsageError(Settings.noSettings))
      const mode = flags.json ? "json" : flags.quiet ? "quiet" : output.isTTY ? "tty" : "plain"
      const fs = yield* FileSystem.FileSystem
      const layer: Layer.Layer<
        Files.Files | CdfConfig.CdfConfig,
        ConfigError.ConfigError | InvalidConfigError | ServeError
      > = flags.emulator
        ? Layers.embedded(
          (emulator) => mode === "quiet" || mode === "json" ? Effect.void : output.err(Layers.describeEmbedded(emulator)),
          flags.concurrency
        )
        : Layers.fromSettings(settings, flags.concurrency)
      const summary = yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(layer).pipe(Effect.catchTags(Layers.buildFailures(output)))
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
