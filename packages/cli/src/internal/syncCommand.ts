/**
 * `cdf-files sync <dir>` (a durable sync job of `@effect-cdf/ingest`) and `cdf-files jobs` (the jobs of a state
 * file). Settings and `--emulator` work as for `upload`; the state file defaults to the user's state directory.
 *
 * @internal
 */
import { Command } from "@effect/cli"
import { CdfConfig } from "@effect-cdf/files"
import type { Files } from "@effect-cdf/files"
import type { InvalidConfigError } from "@effect-cdf/files/CdfError"
import type { Ingest } from "@effect-cdf/ingest"
import * as FileSystem from "@effect/platform/FileSystem"
import type { ServeError } from "@effect/platform/HttpServerError"
import type * as ConfigError from "effect/ConfigError"
import { Clock, Context, Effect, Layer, Logger, LogLevel, Option, Stream } from "effect"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Layers from "./layers.js"
import { formatBytes } from "./progress.js"
import { CliExit, ExitCode } from "./report.js"
import type { Output } from "./runner.js"
import * as Settings from "./settings.js"
import * as Flags from "./syncFlags.js"
import * as Help from "./syncHelp.js"
import { rerunAdvice } from "./syncRerun.js"
import { lockState } from "./syncLock.js"
import * as Resume from "./syncResume.js"
import * as Summary from "./syncSummary.js"
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

/**
 * The logs of the libraries under the command (`@effect/cluster`'s engine, say): on stderr, never stdout (which holds
 * the command's output, JSON lines with `--json`), and only errors: the warnings the engine logs while it stops (on
 * Ctrl-C, "No healthy runners available") say nothing the command does not.
 */
const libraryLogs = Layer.merge(
  Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)),
  Logger.minimumLogLevel(LogLevel.Error)
)

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
              "cdf-files: --emulator: uploading to an EMBEDDED CDF EMULATOR started in this process:\n" +
                `           ${emulator.baseUrl} (project ${emulator.project}). Nothing reaches CDF. It keeps its records\n` +
                `           and files in ${emulatorHome} from run to run (delete it to start over).\n`
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
      const source = Ingest.directory(flags.dir, { include: flags.include, exclude: flags.exclude })
      // the embedded emulator listens on another port each run: its job is named without it, so that a killed run
      // resumes (a job is named by its source, prefix and target)
      const embeddedTarget = flags.emulator ? `embedded emulator ${emulatorHome}` : undefined
      const exitCode = yield* Effect.scoped(Effect.gen(function*() {
        // the CDF settings first: they name the job (its target); then, before the engine starts (and resumes the
        // job's interrupted run, if any), the run's stored options are checked against these flags
        // one sync at a time on a state file (a dry run writes nothing; the runners of a database share it)
        if (Option.isNone(cluster) && !flags.dryRun) yield* lockState(state)
        const files = yield* Layer.build(filesLayer).pipe(Effect.catchTags(Layers.buildFailures(output)))
        if (stateExists || Option.isSome(cluster)) {
          const config = Context.get(files, CdfConfig.CdfConfig)
          // the target as the sync below names it (`targetOf` of `@effect-cdf/ingest` by default: base URL and project)
          const jobId = Ingest.jobId(source, flags.externalIdPrefix, embeddedTarget ?? `${config.baseUrl} ${config.project}`)
          const stored = yield* Resume.storedRun(
            Option.isSome(cluster)
              ? (yield* loadIngestCluster).layerState({ url: cluster.value })
              : Ingest.layerStateFile(state),
            jobId
          )
          if (Option.isSome(stored)) {
            const now: Resume.RunOptions = {
              include: flags.include,
              exclude: flags.exclude,
              directory: Option.getOrNull(flags.directory),
              checksum: flags.checksum
            }
            const differing = Resume.differences(stored.value.options, now)
            if (differing.length > 0) {
              return yield* Effect.fail(
                new UsageError(Resume.refusal({ jobId, run: stored.value.run, state }, differing, stored.value.options, now))
              )
            }
          }
        }
        const context = yield* Layer.build(
          engine.pipe(
            Layer.provideMerge(Layer.succeedContext(files)),
            Layer.provide(Layer.succeed(FileSystem.FileSystem, fs))
          )
        ).pipe(
          Effect.catchTag("IngestError", (error) =>
            Effect.zipRight(
              output.err(`cdf-files: cannot use the state file ${state}: ${error.message}\n`),
              Effect.fail(new CliExit(ExitCode.failure))
            ))
        )
        const resume = rerunAdvice(process.argv.slice(2))
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
        // the summary counts what this command did (`progress`: the files it reported), and labels the whole run's
        const where = onCluster ? "runners" : "local"
        const onSummary = (event: Ingest.Summary) =>
          mode === "json"
            ? output.out(Summary.json(event, progress, where))
            : mode === "quiet"
            ? Effect.void
            : output.out(`${mode === "tty" ? "\r\x1b[2K" : ""}${Summary.text(event, progress, where)}`)
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
        yield* (IngestCluster === undefined ? Ingest.sync : IngestCluster.submit)(
          source,
          {
            externalIdPrefix: flags.externalIdPrefix,
            ...(embeddedTarget === undefined ? {} : { target: embeddedTarget }),
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
    }).pipe(Effect.scoped, Effect.provide(libraryLogs))).pipe(Command.withDescription(Help.sync.summary))

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

