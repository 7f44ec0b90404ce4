/**
 * The `cdf-files` command: `cdf-files upload <path...>` uploads files and directories to CDF Files, `sync` and `jobs`
 * run and list durable sync jobs, `runner` takes a share of a cluster's work, and `emulator` starts a local CDF Files
 * emulator. Settings come from flags, the environment and a `.env` file (the names of cognite-toolkit); with no CDF
 * setting at all, `upload` is a usage error unless `--emulator` asks for an emulator started in-process. `--help` is
 * this package's own plain text (see internal/help.ts).
 *
 * This module parses the command line and turns every ending into an exit code; each command is in `internal/`:
 * `uploadCommand.ts`, `syncCommand.ts` (sync and jobs), `runnerCommand.ts` and `emulatorCommand.ts`.
 *
 * Exit codes: 0 ok, 1 unexpected failure, 2 usage error, 3 auth error, 4 upload or API failure, 130 interrupted.
 *
 * @since 0.1.0
 */
import { Command, HelpDoc, ValidationError } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Doc from "@effect/printer/Doc"
import { Console, Effect } from "effect"
import { emulatorCommand } from "./internal/emulatorCommand.js"
import * as Help from "./internal/help.js"
import { stdinArgument, UsageError } from "./internal/plan.js"
import * as Report from "./internal/report.js"
import type { Output as RunnerOutput } from "./internal/runner.js"
import { runnerCommand } from "./internal/runnerCommand.js"
import { jobsCommand, syncCommand } from "./internal/syncCommand.js"
import * as SyncHelp from "./internal/syncHelp.js"
import { uploadCommand } from "./internal/uploadCommand.js"

/**
 * The command ended with a non-zero exit code; what it had to say was already printed.
 *
 * @since 0.1.0
 * @category errors
 */
export const CliExit: typeof Report.CliExit = Report.CliExit

/**
 * @since 0.1.0
 * @category errors
 */
export type CliExit = Report.CliExit

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

/** Runs `effect` with a console without error output: `run` prints each error itself, once, in plain words. */
const withoutConsoleErrors = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) =>
    Console.withConsole(effect, {
      ...console,
      error: () => Effect.void,
      unsafe: { ...console.unsafe, error: () => {} }
    })
  )

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
      syncCommand(output),
      jobsCommand(output),
      runnerCommand(output),
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
  if (flags.includes("--help") || flags.includes("-h")) return Effect.as(output.out(Help.render(docs)), Report.ExitCode.ok)
  if (args.length === 0) return Effect.as(output.err(Help.render(Help.root)), Report.ExitCode.usage)
  if (command === undefined && flags.includes("--version")) return Effect.as(output.out(`cdf-files ${version}\n`), Report.ExitCode.ok)
  const json = flags.includes("--json")
  const usage = (message: string) =>
    Effect.as(
      Effect.zipRight(
        output.err(`cdf-files: ${message}\nRun 'cdf-files ${command ?? ""}${command === undefined ? "" : " "}--help' for help.\n`),
        json && (command === "upload" || command === "sync")
          ? output.out(JSON.stringify({ type: "error", exitCode: Report.ExitCode.usage, message }) + "\n")
          : Effect.void
      ),
      Report.ExitCode.usage
    )
  return Command.run(command_(output), { name: "cdf-files", version })(command === "upload" ? markStdin(argv) : argv).pipe(
    Effect.as(Report.ExitCode.ok),
    // @effect/cli prints its own (ANSI-coloured) error text: this prints it once, in plain words
    withoutConsoleErrors,
    Effect.catchAll((error): Effect.Effect<number> => {
      if (ValidationError.isValidationError(error)) return usage(describeValidation(error))
      if (error instanceof UsageError) return usage(error.message)
      return Effect.succeed(error.code)
    }),
    Effect.catchAllDefect((defect) =>
      Effect.as(
        output.err(`cdf-files: unexpected failure: ${describeDefect(defect)}\n`),
        Report.ExitCode.failure
      )
    )
  )
}
