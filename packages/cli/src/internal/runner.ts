/**
 * Runs the uploads of `cdf-files upload` with bounded concurrency and shows them: progress bars on a terminal,
 * a line per finished file on a pipe, JSON objects with `--json`.
 *
 * @internal
 */
import type { CdfError, FileMetadata, Progress } from "@effect-cdf/files"
import { Cause, Clock, Effect, Exit, Fiber, Option, Ref, Schedule } from "effect"
import type { PlannedFile } from "./plan.js"
import type { FileProgress, ProgressState } from "./progress.js"
import { frame, render } from "./progress.js"
import type { Outcome, Summary } from "./report.js"
import { interruptedLines, jsonLine, plainLine, summarize, summaryJson, summaryLine } from "./report.js"

/**
 * Uploads one file, reporting progress.
 *
 * @internal
 */
export type Uploader = (
  file: PlannedFile,
  onProgress: Progress.OnProgress
) => Effect.Effect<FileMetadata.FileMetadata, CdfError.CdfError>

/**
 * Where the command writes.
 *
 * @internal
 */
export interface Output {
  readonly out: (text: string) => Effect.Effect<void>
  readonly err: (text: string) => Effect.Effect<void>
  /** Whether stdout is a terminal. */
  readonly isTTY: boolean
  /** The width of the terminal. */
  readonly columns: () => number
}

/**
 * How output looks.
 *
 * @internal
 */
export type Mode = "tty" | "plain" | "json"

interface Slot {
  progress: FileProgress
  outcome: Outcome | undefined
}

/**
 * Uploads every file, at most `concurrency` at a time. An `AuthError` stops new files from starting (they would
 * fail the same way). Interruption (Ctrl-C) interrupts the uploads in flight, which makes the library abort their
 * PUTs and delete the records they created, and then reports what was left before interrupting on.
 *
 * @internal
 */
export const runUploads = (args: {
  readonly files: ReadonlyArray<PlannedFile>
  readonly uploader: Uploader
  readonly concurrency: number
  readonly mode: Mode
  readonly output: Output
  /** Milliseconds between progress frames on a terminal. */
  readonly refreshMillis?: number
}): Effect.Effect<Summary> =>
  Effect.gen(function*() {
    const { files, mode, output, uploader } = args
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
    const shown = yield* Ref.make(0)
    const drawFrame = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const lines = render(state(), { now, width: output.columns() })
      const previous = yield* Ref.getAndSet(shown, lines.length)
      yield* output.out(frame(previous, lines))
    })
    const clearFrame = Effect.gen(function*() {
      const previous = yield* Ref.getAndSet(shown, 0)
      if (previous > 0) yield* output.out(`\x1b[${previous}F\x1b[0J`)
    })
    const announce = (outcome: Outcome) =>
      mode === "json"
        ? output.out(jsonLine(outcome) + "\n")
        : mode === "plain"
        ? output.out(plainLine(outcome) + "\n")
        : Effect.zipRight(clearFrame, output.out(plainLine(outcome) + "\n"))
    const stopped = yield* Ref.make<string | undefined>(undefined)

    const uploadOne = (slot: Slot, file: PlannedFile) =>
      Effect.gen(function*() {
        const reason = yield* Ref.get(stopped)
        if (reason !== undefined) {
          slot.outcome = { _tag: "NotStarted", display: file.display, size: file.size, reason }
          slot.progress = { ...slot.progress, status: "cancelled" }
          return yield* announce(slot.outcome)
        }
        slot.progress = { ...slot.progress, status: "uploading", startedAt: yield* Clock.currentTimeMillis }
        const exit = yield* uploader(file, (p) =>
          Effect.sync(() => {
            slot.progress = { ...slot.progress, sent: Math.max(slot.progress.sent, p.sent) }
          })).pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                slot.outcome = { _tag: "Cancelled", display: file.display, size: file.size }
                slot.progress = { ...slot.progress, status: "cancelled" }
              })
            ),
            Effect.exit
          )
        const finishedAt = yield* Clock.currentTimeMillis
        if (Exit.isSuccess(exit)) {
          slot.outcome = { _tag: "Uploaded", display: file.display, size: file.size, file: exit.value }
          slot.progress = { ...slot.progress, status: "done", sent: file.size, finishedAt }
        } else {
          const failure = Cause.failureOption(exit.cause)
          if (Option.isNone(failure)) return yield* Effect.die(Cause.squash(exit.cause))
          const error = failure.value
          slot.outcome = { _tag: "Failed", display: file.display, size: file.size, error }
          slot.progress = { ...slot.progress, status: "failed", finishedAt }
          if (error._tag === "AuthError") {
            yield* Ref.set(stopped, `not started after an auth error (${error.message})`)
          }
        }
        yield* announce(slot.outcome)
      })

    const outcomes = () =>
      slots.map((slot, i): Outcome =>
        slot.outcome ?? {
          _tag: slot.progress.status === "uploading" ? "Cancelled" : "NotStarted",
          display: files[i].display,
          size: files[i].size,
          reason: "interrupted"
        }
      )

    const finish = (interrupted: boolean) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const all = outcomes()
        const summary = summarize(all, now - startedAt, interrupted)
        if (mode === "tty") yield* clearFrame
        if (interrupted) {
          for (const slot of slots) {
            if (slot.outcome?._tag === "Cancelled" && mode !== "tty") yield* announce(slot.outcome)
          }
          yield* output.err(interruptedLines(all).join("\n") + "\n")
        }
        if (mode === "json") {
          const left = all.filter((outcome) => outcome._tag !== "Uploaded").map((outcome) => outcome.display)
          yield* output.out(summaryJson(summary, left) + "\n")
        } else {
          yield* output.out(summaryLine(summary) + "\n")
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
    const stopTicker = ticker === undefined ? Effect.void : Fiber.interrupt(ticker)
    return yield* work.pipe(
      Effect.onInterrupt(() => Effect.zipRight(stopTicker, finish(true))),
      Effect.zipRight(Effect.suspend(() => Effect.zipRight(stopTicker, finish(false)))),
      // a defect ends the run too: the frames must stop
      Effect.ensuring(stopTicker)
    )
  })
