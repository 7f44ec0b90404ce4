/**
 * `cdf-files runner --state postgres://…`: this process as a runner of `@effect-cdf/ingest`'s cluster (see
 * docs/cluster.md).
 *
 * @internal
 */
import { Command } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Layer, Option } from "effect"
import * as Layers from "./layers.js"
import { CliExit, ExitCode } from "./report.js"
import type { Output } from "./runner.js"
import * as Settings from "./settings.js"
import { describeUrl, postgresUrl } from "./stateUrl.js"
import { loadIngestCluster } from "./syncCommand.js"
import * as Flags from "./syncFlags.js"
import * as Help from "./syncHelp.js"
import { UsageError } from "./usage.js"

/** The exit code of a runner to restart (EX_TEMPFAIL): systemd's `Restart=on-failure` and Kubernetes restart it. */
const restartExitCode = 75

/**
 * `cdf-files runner`.
 *
 * @internal
 */
export const runnerCommand = (output: Output) =>
  Command.make("runner", Flags.runner, (flags) =>
    Effect.gen(function*() {
      const url = postgresUrl(flags.state)
      if (Option.isNone(url)) {
        return yield* Effect.fail(new UsageError(`--state must be a postgres:// URL (the runners' database), got ${flags.state}`))
      }
      const settings = yield* Settings.resolve(flags).pipe(Effect.mapError((message) => new UsageError(message)))
      if (!settings.hasCdfSettings) return yield* Effect.fail(new UsageError(Settings.noSettings))
      const fs = yield* FileSystem.FileSystem
      const host = flags.host
      const IngestCluster = yield* loadIngestCluster
      const layer = IngestCluster.layerRunner({
        url: url.value,
        host,
        port: flags.port,
        listenHost: Option.getOrUndefined(flags.listenHost)
      }).pipe(
        Layer.provideMerge(Layers.fromSettings(settings, 8)),
        Layer.provide(Layer.succeed(FileSystem.FileSystem, fs))
      )
      return yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(layer).pipe(
          Effect.catchTags({
            ConfigError: (error) => Effect.fail(new UsageError(Settings.describeConfigError(error))),
            InvalidConfigError: (error) => Effect.fail(new UsageError(`configuration: ${error.message}`)),
            IngestError: (error) =>
              Effect.zipRight(
                output.err(`cdf-files: runner ${host}:${flags.port} on ${describeUrl(url.value)}: ${error.message}\n`),
                Effect.fail(new CliExit(ExitCode.failure))
              )
          })
        )
        yield* output.err(
          `cdf-files: runner ${host}:${flags.port} on ${describeUrl(url.value)}: taking work; stop with SIGTERM or Ctrl-C\n`
        )
        // a runner the engine left stuck after a database restart: this process must go for its shards to move
        // (closing its scope would wait on the stuck release), and its supervisor starts it again
        return yield* IngestCluster.watchRunner().pipe(
          Effect.provide(context),
          Effect.catchTag("IngestError", (error) =>
            Effect.zipRight(
              output.err(`cdf-files: runner ${host}:${flags.port}: ${error.message} (exit ${restartExitCode})\n`),
              Effect.sync(() => process.exit(restartExitCode))
            ))
        )
      }))
    })).pipe(Command.withDescription(Help.runner.summary))
