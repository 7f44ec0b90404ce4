/**
 * `cdf-files sync <dir>` (a durable sync job of `@effect-cdf/ingest`) and `cdf-files jobs` (the jobs of a state
 * file). Settings and `--emulator` work as for `upload`; the state file defaults to the user's state directory.
 *
 * @internal
 */
import { Command } from "@effect/cli"
import type { CdfConfig, Files } from "@effect-cdf/files"
import type { InvalidConfigError } from "@effect-cdf/files/CdfError"
import type { Ingest } from "@effect-cdf/ingest"
import * as FileSystem from "@effect/platform/FileSystem"
import type { ServeError } from "@effect/platform/HttpServerError"
import type * as ConfigError from "effect/ConfigError"
import { Clock, Effect, Layer, Option, Stream } from "effect"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Layers from "./layers.js"
import { formatBytes } from "./progress.js"
import { CliExit, ExitCode } from "./report.js"
import type { Output } from "./runner.js"
import * as Settings from "./settings.js"
import * as Flags from "./syncFlags.js"
import * as Help from "./syncHelp.js"
import { describeUrl, postgresUrl } from "./stateUrl.js"
import { UsageError } from "./usage.js"

/**
 * `@effect-cdf/ingest`'s embedded engine (the workflow engine on SQLite): loaded by the commands that use it, since
 * at start-up it costs about 0.5 s of CPU that `upload` and `--help` need not pay.
 */
export const loadIngest = Effect.promise(() => import("@effect-cdf/ingest/Ingest"))

/**
 * Its cluster (runners, their socket transport, PostgreSQL): loaded only for a `postgres://` state, about 0.1 s of
 * CPU more that a local sync need not pay.
 */
export const loadIngestCluster = Effect.promise(() => import("@effect-cdf/ingest/IngestCluster"))

/**
 * The default state file: `$XDG_STATE_HOME/effect-cdf/sync.db`, else `~/.local/state/effect-cdf/sync.db`.
 *
 * @internal
 */
export const defaultStateFile = (env: NodeJS.ProcessEnv = process.env): string =>
  nodePath.join(
    env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== ""
      ? env.XDG_STATE_HOME
      : nodePath.join(os.homedir(), ".local", "state"),
    "effect-cdf",
    "sync.db"
  )

/** The exit code of a run from the tags of its failures: auth 3, a value the API refuses 2, else 4. */
const exitCodeOf = (failedTags: ReadonlySet<string>): number =>
  failedTags.size === 0
    ? ExitCode.ok
    : failedTags.has("AuthError")
    ? ExitCode.auth
    : failedTags.has("InvalidFileMetadataError") || failedTags.has("InvalidConfigError")
    ? ExitCode.usage
    : ExitCode.upload

const rate = (bytes: number, files: number, seconds: number) =>
  seconds <= 0 ? "" : ` (${formatBytes(bytes / seconds)}/s, ${(files / seconds).toFixed(1)} files/s)`

interface Progress {
  uploaded: number
  skipped: number
  failed: number
  bytes: number
  drawnAt: number
}

/**
 * `cdf-files sync`.
 *
 * @internal
 */
export const syncCommand = (output: Output) =>
  Command.make("sync", Flags.sync, (flags) =>
    Effect.gen(function*() {
      if (flags.externalIdPrefix === "") {
        return yield* Effect.fail(new UsageError("--external-id-prefix must not be empty: it keeps the external ids stable"))
      }
      const settings = yield* Settings.resolve(flags).pipe(Effect.mapError((message) => new UsageError(message)))
      if (!settings.hasCdfSettings && !flags.emulator) return yield* Effect.fail(new UsageError(Settings.noSettings))
      const mode = flags.json ? "json" : flags.quiet ? "quiet" : output.isTTY ? "tty" : "plain"
      const talk = (text: string) => mode === "plain" || mode === "tty" ? output.err(text) : Effect.void
      const fs = yield* FileSystem.FileSystem
      const cluster = Option.flatMap(flags.state, postgresUrl)
      if (Option.isSome(cluster) && flags.emulator) {
        return yield* Effect.fail(
          new UsageError("--emulator cannot go with a postgres:// state: the runners upload with their own CDF settings")
        )
      }
      // with --emulator, the embedded emulator keeps its records and files beside the state, from run to run: a
      // second run skips what the first one uploaded
      const emulatorHome = nodePath.join(nodePath.dirname(defaultStateFile()), "emulator")
      const state = Option.isSome(cluster)
        ? describeUrl(cluster.value)
        : nodePath.resolve(
          Option.getOrElse(flags.state, () => flags.emulator ? nodePath.join(emulatorHome, "sync.db") : defaultStateFile())
        )
      const stateExists = Option.isNone(cluster) && (yield* fs.exists(state).pipe(Effect.orElseSucceed(() => false)))
      if (!flags.dryRun && Option.isNone(cluster)) {
        yield* fs.makeDirectory(nodePath.dirname(state), { recursive: true }).pipe(
          Effect.mapError((error) => new UsageError(`cannot create the directory of the state file ${state}: ${error.message}`))
        )
      }
      const filesLayer: Layer.Layer<
        Files.Files | CdfConfig.CdfConfig,
        ConfigError.ConfigError | InvalidConfigError | ServeError
      > = flags.emulator
        ? Layers.embedded(
          (emulator) =>
            talk(
              Layers.describeEmbedded(emulator) +
                `cdf-files: the embedded emulator keeps its files in ${emulatorHome} (delete it to start over)\n`
            ),
          flags.concurrency,
          { dataDir: nodePath.join(emulatorHome, "files"), persist: true }
        )
        : Layers.fromSettings(settings, flags.concurrency)
      // a dry run keeps no state: it reads the state file only if there is one (for --checksum)
      // with a runners' database the job runs there: this process submits it and follows it
      const onCluster = Option.isSome(cluster) && !flags.dryRun
      const Ingest = yield* loadIngest
      const IngestCluster = onCluster ? yield* loadIngestCluster : undefined
      const engine = Option.isSome(cluster)
        ? IngestCluster === undefined ? Ingest.layerMemory : IngestCluster.layerClient({ url: cluster.value })
        : flags.dryRun && !stateExists
        ? Ingest.layerMemory
        : Ingest.layerSqlite({ filename: state })
      const layer = engine.pipe(Layer.provideMerge(filesLayer), Layer.provide(Layer.succeed(FileSystem.FileSystem, fs)))
      const exitCode = yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(layer).pipe(
          Effect.catchTags({
            ...Layers.buildFailures(output),
            IngestError: (error) =>
              Effect.zipRight(
                output.err(`cdf-files: cannot use the state file ${state}: ${error.message}\n`),
                Effect.fail(new CliExit(ExitCode.failure))
              )
          })
        )
        const resume = `cdf-files sync ${process.argv.slice(3).map((arg) => /^[\w./:=@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`).join(" ")}`
        yield* talk(
          flags.dryRun
            ? `cdf-files: dry run of ${flags.dir}: nothing is written\n`
            : onCluster
            ? `cdf-files: syncing ${flags.dir} on the runners of ${state}\n`
            : `cdf-files: syncing ${flags.dir}; state: ${state}\n`
        )
        const failedTags = new Set<string>()
        const failures: Array<string> = []
        // the counts so far, for the progress line: kept by the one fiber that reads the events
        const progress: Progress = { uploaded: 0, skipped: 0, failed: 0, bytes: 0, drawnAt: 0 }
        const draw = (force: boolean) =>
          mode !== "tty" ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (now) => {
            if (!force && now - progress.drawnAt < 200) return Effect.void
            progress.drawnAt = now
            return output.out(
              `\r\x1b[2K${progress.uploaded} uploaded (${formatBytes(progress.bytes)}), ${progress.skipped} skipped, ${progress.failed} failed`
            )
          })
        /** Counts one file's outcome, and adds what it prints to `out` and `err`. */
        const onFile = (event: Ingest.FileOutcome, out: Array<string>, err: Array<string>) => {
          if (event.status === "failed") {
            failedTags.add(event.error?.tag ?? "UnknownError")
            failures.push(JSON.stringify({
              path: event.path,
              externalId: event.externalId,
              tag: event.error?.tag,
              message: event.error?.message
            }))
          }
          if (event.status === "uploaded" || event.status === "would-upload") progress.uploaded++
          else if (event.status === "skipped") progress.skipped++
          else if (event.status === "failed") progress.failed++
          progress.bytes += event.bytes
          if (mode === "json") {
            out.push(JSON.stringify({ path: event.path, externalId: event.externalId, status: event.status, bytes: event.bytes }) + "\n")
          } else if (event.status === "failed") {
            err.push(`${mode === "tty" ? "\r\x1b[2K" : ""}cdf-files: failed ${event.path}: ${event.error?.message ?? ""}\n`)
          } else if (mode === "plain" && (flags.dryRun || event.status !== "skipped")) {
            out.push(`${event.status === "would-upload" ? "would upload" : event.status === "skipped" ? "skip" : event.status}  ${event.path}\n`)
          }
        }
        const onSummary = (event: Ingest.Summary) => {
          if (mode === "json") {
            return output.out(JSON.stringify({
              summary: {
                uploaded: event.uploaded,
                skipped: event.skipped,
                failed: event.failed,
                bytes: event.bytes,
                seconds: event.seconds
              }
            }) + "\n")
          }
          if (mode === "quiet") return Effect.void
          const what = event.dryRun ? "would upload" : "uploaded"
          const resumed = event.resumed ? ` (resumed run ${event.run} of job ${event.jobId})` : ""
          return output.out(
            `${mode === "tty" ? "\r\x1b[2K" : ""}${event.uploaded} ${what} (${formatBytes(event.bytes)}), ${event.skipped} skipped, ` +
              `${event.failed} failed in ${event.seconds.toFixed(1)} s` +
              `${event.dryRun ? "" : rate(event.bytes, event.uploaded + event.skipped, event.seconds)}${resumed}\n`
          )
        }
        // the events come in chunks, as many as were ready: one write per chunk and stream, not one per file
        const onChunk = (events: Iterable<Ingest.SyncEvent>) =>
          Effect.suspend(() => {
            const out: Array<string> = []
            const err: Array<string> = []
            let summary: Ingest.Summary | undefined
            for (const event of events) {
              if (event._tag === "File") onFile(event, out, err)
              else summary = event
            }
            return Effect.zipRight(
              Effect.zipRight(
                out.length === 0 ? Effect.void : output.out(out.join("")),
                err.length === 0 ? Effect.void : output.err(err.join(""))
              ),
              summary === undefined ? draw(false) : onSummary(summary)
            )
          })
        const source = Ingest.directory(flags.dir, { include: flags.include, exclude: flags.exclude })
        yield* (IngestCluster === undefined ? Ingest.sync : IngestCluster.submit)(
          source,
          {
            externalIdPrefix: flags.externalIdPrefix,
            directory: Option.getOrUndefined(flags.directory),
            checksum: flags.checksum,
            dryRun: flags.dryRun,
            concurrency: flags.concurrency,
            batchSize: Option.getOrUndefined(flags.batchSize),
            // on runners, enough batches at once for every runner to have some
            ...(onCluster ? { batchConcurrency: 32 } : {})
          }
        ).pipe(
          Stream.runForEachChunk(onChunk),
          Effect.provide(context),
          Effect.catchTag("IngestError", (error): Effect.Effect<never, UsageError | CliExit> =>
            error.reason === "State"
              ? Effect.zipRight(output.err(`cdf-files: ${error.message}\n`), Effect.fail(new CliExit(ExitCode.failure)))
              : Effect.fail(new UsageError(error.message))),
          Effect.onInterrupt(() =>
            onCluster
              ? output.err(
                `\ncdf-files: stopped following. The job goes on on the runners; to follow it again: ${resume}\n`
              )
              : output.err(
              `\ncdf-files: interrupted. Files finished so far are recorded in ${state}.\n` +
                `  To continue, run the same command again: ${resume}\n`
            )
          )
        )
        if (Option.isSome(flags.failures)) {
          yield* fs.writeFileString(flags.failures.value, failures.map((line) => line + "\n").join("")).pipe(
            Effect.catchAll((error) => output.err(`cdf-files: cannot write ${flags.failures}: ${error.message}\n`))
          )
        }
        return exitCodeOf(failedTags)
      }))
      if (exitCode !== ExitCode.ok) return yield* Effect.fail(new CliExit(exitCode))
    }).pipe(Effect.scoped)).pipe(Command.withDescription(Help.sync.summary))

/**
 * `cdf-files jobs`.
 *
 * @internal
 */
export const jobsCommand = (output: Output) =>
  Command.make("jobs", Flags.jobs, (flags) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const cluster = Option.flatMap(flags.state, postgresUrl)
      const state = Option.isSome(cluster)
        ? describeUrl(cluster.value)
        : nodePath.resolve(Option.getOrElse(flags.state, () => defaultStateFile()))
      if (Option.isNone(cluster) && !(yield* fs.exists(state).pipe(Effect.orElseSucceed(() => false)))) {
        if (!flags.json) yield* output.out(`no jobs: ${state} does not exist (cdf-files sync creates it)\n`)
        return
      }
      const Ingest = yield* loadIngest
      const jobs = yield* Ingest.jobs.pipe(
        Effect.provide(
          Option.isSome(cluster)
            ? (yield* loadIngestCluster).layerState({ url: cluster.value })
            : Ingest.layerStateFile(state)
        ),
        Effect.catchTag("IngestError", (error) =>
          Effect.zipRight(
            output.err(`cdf-files: cannot read the state file ${state}: ${error.message}\n`),
            Effect.fail(new CliExit(ExitCode.failure))
          ))
      )
      if (flags.json) {
        for (const job of jobs) yield* output.out(JSON.stringify(job) + "\n")
        return
      }
      yield* output.out(`${jobs.length} job${jobs.length === 1 ? "" : "s"} in ${state}\n`)
      for (const job of jobs) {
        yield* output.out(
          `${job.jobId}  run ${job.run} ${job.state}  ${job.uploaded} uploaded (${formatBytes(job.bytes)}), ` +
            `${job.skipped} skipped, ${job.failed} failed  ${job.source} -> ${job.prefix} @ ${job.target}  started ` +
            `${new Date(job.startedAt).toISOString()}\n`
        )
      }
    })).pipe(Command.withDescription(Help.jobs.summary))

