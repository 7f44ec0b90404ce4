/**
 * What `cdf-files upload` prints about finished files, for pipes (plain lines) and scripts (`--json`), and the exit
 * code it ends with.
 *
 * @internal
 */
import type { CdfError } from "@effect-cdf/files"
import { FileMetadata } from "@effect-cdf/files"
import { Schema } from "effect"
import { formatBytes, formatDuration } from "./progress.js"

/**
 * The outcome of one file.
 *
 * @internal
 */
export type Outcome =
  | { readonly _tag: "Uploaded"; readonly display: string; readonly size: number; readonly file: FileMetadata.FileMetadata }
  | { readonly _tag: "Failed"; readonly display: string; readonly size: number; readonly error: CdfError.CdfError }
  | { readonly _tag: "Cancelled"; readonly display: string; readonly size: number }
  | { readonly _tag: "NotStarted"; readonly display: string; readonly size: number; readonly reason: string }

/**
 * Exit codes of `cdf-files`.
 *
 * @internal
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  upload: 4,
  interrupted: 130
} as const

/**
 * The exit code for a set of outcomes: 3 when any file met an auth error, 2 when a flag's value broke a limit of
 * the API (or a setting was unusable), 4 when any other file failed (or was not started), else 0.
 *
 * @internal
 */
export const exitCodeOf = (outcomes: ReadonlyArray<Outcome>): number => {
  const errors = outcomes.flatMap((outcome) => outcome._tag === "Failed" ? [outcome.error] : [])
  if (errors.some((error) => error._tag === "AuthError")) return ExitCode.auth
  if (errors.some((error) => error._tag === "InvalidFileMetadataError" || error._tag === "InvalidConfigError")) {
    return ExitCode.usage
  }
  return outcomes.every((outcome) => outcome._tag === "Uploaded") ? ExitCode.ok : ExitCode.upload
}

const encodeFile = Schema.encodeSync(FileMetadata.FileMetadata)

/**
 * The JSON form of an error: its `_tag`, `message` and fields (never a secret: the library's errors carry none).
 *
 * @internal
 */
export const errorJson = (error: CdfError.CdfError): Record<string, unknown> => {
  const fields: Record<string, unknown> = { _tag: error._tag, message: error.message }
  for (const [key, value] of Object.entries(error)) {
    if (key === "stack" || key === "cause" || typeof value === "function") continue
    fields[key] = typeof value === "object" && value !== null ? JSON.parse(JSON.stringify(value)) : value
  }
  return fields
}

/**
 * The line a pipe gets for a finished file.
 *
 * @internal
 */
export const plainLine = (outcome: Outcome): string => {
  switch (outcome._tag) {
    case "Uploaded": {
      const externalId = outcome.file.externalId === undefined ? "" : ` externalId=${outcome.file.externalId}`
      return `uploaded ${outcome.display} (${formatBytes(outcome.size)}) id=${outcome.file.id}${externalId}`
    }
    case "Failed":
      return `failed ${outcome.display}: ${outcome.error._tag}: ${outcome.error.message}`
    case "Cancelled":
      return `cancelled ${outcome.display}`
    case "NotStarted":
      return `skipped ${outcome.display}: ${outcome.reason}`
  }
}

/**
 * The JSON object `--json` prints for a finished file.
 *
 * @internal
 */
export const jsonLine = (outcome: Outcome): string => {
  const base = { type: "file", path: outcome.display, size: outcome.size }
  switch (outcome._tag) {
    case "Uploaded":
      return JSON.stringify({ ...base, status: "uploaded", file: encodeFile(outcome.file) })
    case "Failed":
      return JSON.stringify({ ...base, status: "failed", error: errorJson(outcome.error) })
    case "Cancelled":
      return JSON.stringify({ ...base, status: "cancelled" })
    case "NotStarted":
      return JSON.stringify({ ...base, status: "skipped", reason: outcome.reason })
  }
}

/**
 * Totals over the outcomes.
 *
 * @internal
 */
export interface Summary {
  readonly files: number
  readonly uploaded: number
  readonly failed: number
  readonly cancelled: number
  readonly notStarted: number
  /** Bytes of the files uploaded. */
  readonly bytes: number
  readonly millis: number
  readonly interrupted: boolean
  readonly exitCode: number
}

/**
 * @internal
 */
export const summarize = (
  outcomes: ReadonlyArray<Outcome>,
  millis: number,
  interrupted: boolean
): Summary => {
  const count = (tag: Outcome["_tag"]) => outcomes.filter((outcome) => outcome._tag === tag).length
  return {
    files: outcomes.length,
    uploaded: count("Uploaded"),
    failed: count("Failed"),
    cancelled: count("Cancelled"),
    notStarted: count("NotStarted"),
    bytes: outcomes.reduce((sum, outcome) => sum + (outcome._tag === "Uploaded" ? outcome.size : 0), 0),
    millis,
    interrupted,
    exitCode: interrupted ? ExitCode.interrupted : exitCodeOf(outcomes)
  }
}

const formatElapsed = (millis: number): string =>
  millis < 60_000 ? `${(millis / 1000).toFixed(1)} s` : formatDuration(millis)

/**
 * The last line on a pipe or terminal.
 *
 * @internal
 */
export const summaryLine = (summary: Summary): string => {
  const parts = [`${summary.uploaded} uploaded`]
  if (summary.failed > 0) parts.push(`${summary.failed} failed`)
  if (summary.cancelled > 0) parts.push(`${summary.cancelled} cancelled`)
  if (summary.notStarted > 0) parts.push(`${summary.notStarted} not started`)
  return `${parts.join(", ")} of ${summary.files} file${summary.files === 1 ? "" : "s"}; ${
    formatBytes(summary.bytes)
  } in ${formatElapsed(summary.millis)}${summary.interrupted ? " (interrupted)" : ""}`
}

/**
 * The summary object `--json` prints last.
 *
 * @internal
 */
export const summaryJson = (summary: Summary, left: ReadonlyArray<string>): string =>
  JSON.stringify({ type: "summary", ...summary, ...(summary.interrupted ? { notUploaded: left } : {}) })

/**
 * What an interrupted run says about what was left (on stderr).
 *
 * @internal
 */
export const interruptedLines = (outcomes: ReadonlyArray<Outcome>, limit = 20): ReadonlyArray<string> => {
  const summary = summarize(outcomes, 0, true)
  const left = outcomes.filter((outcome) => outcome._tag !== "Uploaded")
  const lines = [
    `cdf-files: interrupted. ${summary.uploaded} of ${summary.files} uploaded; ${summary.cancelled} in flight cancelled ` +
    `(their PUTs were aborted and the records they had created deleted, best effort); ${summary.notStarted} not started` +
    (summary.failed > 0 ? `; ${summary.failed} failed` : "") + "."
  ]
  if (left.length > 0) {
    lines.push("Not uploaded:")
    for (const outcome of left.slice(0, limit)) lines.push(`  ${outcome.display}`)
    if (left.length > limit) lines.push(`  … and ${left.length - limit} more`)
  }
  return lines
}
