/**
 * Runs the uploads of `cdf-files upload` with bounded concurrency and shows them: progress bars on a terminal,
 * a line per finished file on a pipe, JSON objects with `--json`.
 *
 * @internal
 */
import type { CdfError, FileMetadata, Progress } from "@effect-cdf/files"
import { Cause, Clock, Effect, Exit, Fiber, Option, Schedule } from "effect"
import type { PlannedFile } from "./plan.js"
import type { FileProgress, ProgressState } from "./progress.js"
import { frame, render } from "./progress.js"
import type { Credentials, Outcome, Summary, Target } from "./report.js"
import {
  authAdvice,
  conflictAdvice,
  interruptedLines,
  jsonLine,
  plainLine,
  skippedJson,
  skippedLines,
  summarize,
  summaryJson,
  summaryLine
} from "./report.js"
import type { Skipped } from "./walk.js"

/**
 * Uploads one file, reporting progress to `onProgress` when it is given (only when someone watches: a progress
 * callback makes the upload count and read the clock as it goes). `R` is what every upload needs, provided once
 * around `runUploads` rather than per file.
 *
 * @internal
 */
export type Uploader<R = never> = (
  file: PlannedFile,
  onProgress: Progress.OnProgress | undefined
) => Effect.Effect<FileMetadata.FileMetadata, CdfError.CdfError, R>

/**
 * Where the command writes.
 *
 * @internal
 */
export interface Output {
  readonly out: (text: string) => Effect.Effect<void>
  readonly err: (text: string) => Effect.Effect<void>
  /** Whether to draw progress: stdout is a terminal that takes cursor movement (not with NO_COLOR or TERM=dumb). */
  readonly isTTY: boolean
  /** The width of the terminal. */
  readonly columns: () => number
}

/**
 * How output looks: progress on a terminal, a line per file on a pipe, JSON lines, or errors only (`--quiet`).
 *
 * @internal
 */
export type Mode = "tty" | "plain" | "json" | "quiet"

interface Slot {
  progress: FileProgress
  outcome: Outcome | undefined
}

/**
 * Uploads every file, at most `concurrency` at a time. An `AuthError` stops new files from starting (they would
 * fail the same way) and says once what to check. Interruption (Ctrl-C) interrupts the uploads in flight, which
 * makes the library abort their PUTs and delete the records they created, and then reports what was left before
 * interrupting on.
 *
 * Per file, a terminal gets no write of its own: finished lines are gathered and written with the next frame (at
 * most every `refreshMillis`); progress callbacks only update a counter, and only on a terminal or for standard
 * input (whose size is counted from them).
 *
 * @internal
 */
export const runUploads = <R = never>(args: {
  readonly files: ReadonlyArray<PlannedFile>
  readonly uploader: Uploader<R>
  readonly concurrency: number
  readonly mode: Mode
  readonly output: Output
  /** Entries skipped on purpose, listed before the summary. */
  readonly skipped?: ReadonlyArray<Skipped>
  /** Where the files go, named in the summary. */
  readonly target?: Target
  /** Which credentials are in use, for the advice after an auth error. */
  readonly credentials?: Credentials
  /** Milliseconds between progress frames on a terminal. */
  readonly refreshMillis?: number
}): Effect.Effect<Summary, never, R> =>
  Effect.gen(function*() {
    const { files, mode, output, uploader } = args
    const skipped = args.skipped ?? []
    const startedAt = yield* Clock.currentTimeMillis
    const slots: Array<Slot> = files.map((file) => ({
      progress: {
        path: file.display,
        size: file.size,
        sent: 0,
        status: "queued",
        startedAt: undefined,
        finishedAt: undefined
      },
      outcome: undefined
    }))
    const state = (): ProgressState => ({ files: slots.map((slot) => slot.progress), startedAt })
    let shown = 0
    let pending = ""
    const clear = () => {
      const text = shown > 0 ? `\x1b[${shown}F\x1b[0J` : ""
      shown = 0
      return text
    }
    const drawFrame = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const lines = render(state(), { now, width: output.columns() })
      const text = clear() + pending + frame(0, lines)
      pending = ""
      shown = lines.length
      yield* output.out(text)
    })
    const flushPending = Effect.suspend(() => {
      const text = clear() + pending
      pending = ""
      return text === "" ? Effect.void : output.out(text)
    })
    const announce = (outcome: Outcome): Effect.Effect<void> => {
      switch (mode) {
        case "json":
          return output.out(jsonLine(outcome) + "\n")
        case "plain":
          return outcome._tag === "NotStarted" ? Effect.void : output.out(plainLine(outcome) + "\n")
        case "quiet":
          return outcome._tag === "Failed" ? output.err(`cdf-files: ${plainLine(outcome)}\n`) : Effect.void
        case "tty":
          return Effect.sync(() => {
            if (outcome._tag !== "NotStarted") pending += plainLine(outcome) + "\n"
          })
      }
    }
    let stopped: string | undefined = undefined
    const tracksProgress = mode === "tty"

    const uploadOne = (slot: Slot, file: PlannedFile) =>
      Effect.gen(function*() {
        const size = file.size ?? 0
        if (stopped !== undefined) {
          slot.outcome = { _tag: "NotStarted", display: file.display, size, reason: stopped }
          slot.progress = { ...slot.progress, status: "cancelled" }
          return yield* announce(slot.outcome)
        }
        slot.progress = { ...slot.progress, status: "uploading", startedAt: yield* Clock.currentTimeMillis }
        const onProgress: Progress.OnProgress | undefined = tracksProgress || file.size === undefined
          ? (p) =>
            Effect.sync(() => {
              if (p.sent > slot.progress.sent) slot.progress = { ...slot.progress, sent: p.sent }
            })
          : undefined
        const exit = yield* uploader(file, onProgress).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              slot.outcome = { _tag: "Cancelled", display: file.display, size }
              slot.progress = { ...slot.progress, status: "cancelled" }
            })
          ),
          Effect.exit
        )
        const finishedAt = yield* Clock.currentTimeMillis
        if (Exit.isSuccess(exit)) {
          const bytes = file.size ?? slot.progress.sent
          slot.outcome = { _tag: "Uploaded", display: file.display, size: bytes, file: exit.value }
          slot.progress = { ...slot.progress, status: "done", sent: bytes, finishedAt }
        } else {
          const failure = Cause.failureOption(exit.cause)
          if (Option.isNone(failure)) return yield* Effect.die(Cause.squash(exit.cause))
          const error = failure.value
          slot.outcome = { _tag: "Failed", display: file.display, size, error }
          slot.progress = { ...slot.progress, status: "failed", finishedAt }
          if (error._tag === "AuthError" && stopped === undefined) {
            stopped = "not started after an auth error"
            if (mode === "tty") yield* flushPending
            yield* output.err(authAdvice(error, args.credentials ?? "token"))
          }
        }
        yield* announce(slot.outcome)
      })

    const outcomes = () =>
      slots.map((slot, i): Outcome =>
        slot.outcome ?? {
          _tag: slot.progress.status === "uploading" ? "Cancelled" : "NotStarted",
          display: files[i].display,
          size: files[i].size ?? 0,
          reason: "interrupted"
        }
      )

    const finish = (interrupted: boolean) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const all = outcomes()
        const summary = summarize(all, now - startedAt, interrupted, skipped.length)
        if (mode === "tty") yield* flushPending
        if (interrupted) {
          for (const slot of slots) {
            if (slot.outcome?._tag === "Cancelled" && (mode === "plain" || mode === "json")) {
              yield* announce(slot.outcome)
            }
          }
          yield* output.err(interruptedLines(all).join("\n") + "\n")
        }
        if (mode === "json") {
          for (const entry of skipped) yield* output.out(skippedJson(entry) + "\n")
          const left = all.filter((outcome) => outcome._tag !== "Uploaded").map((outcome) => outcome.display)
          yield* output.out(summaryJson(summary, { left, target: args.target }) + "\n")
        } else if (mode !== "quiet") {
          const lines = [...skippedLines(skipped), summaryLine(summary, args.target)]
          yield* output.out(lines.join("\n") + "\n")
        }
        const conflicts = conflictAdvice(all)
        if (conflicts !== undefined && mode !== "json") yield* output.err(conflicts)
        if (stopped !== undefined && summary.notStarted > 0 && mode !== "json") {
          yield* output.err(`cdf-files: ${summary.notStarted} file${summary.notStarted === 1 ? " was" : "s were"} not started after the auth error.\n`)
        }
        return summary
      })

    const ticker = mode === "tty"
      ? yield* Effect.forkDaemon(
        drawFrame.pipe(Effect.repeat(Schedule.spaced(`${args.refreshMillis ?? 100} millis`)))
      )
      : undefined

    const work = Effect.forEach(
      files,
      (file, i) => uploadOne(slots[i], file),
      { concurrency: args.concurrency, discard: true }
    )
    // the frame is erased on every ending (success, failure, interruption, defect): the terminal is left clean
    const stopTicker = ticker === undefined ? Effect.void : Effect.zipRight(Fiber.interrupt(ticker), flushPending)
    return yield* work.pipe(
      Effect.onInterrupt(() => Effect.zipRight(stopTicker, finish(true))),
      Effect.zipRight(Effect.suspend(() => Effect.zipRight(stopTicker, finish(false)))),
      Effect.ensuring(stopTicker)
    )
  })
