/**
 * What `cdf-files upload` prints about finished files, for pipes (plain lines) and scripts (`--json`), and the exit
 * code it ends with.
 *
 * @internal
 */
import type { CdfError } from "@effect-cdf/files"
import { FileMetadata } from "@effect-cdf/files"
import { Schema } from "effect"
import { escapeControl, formatBytes, formatDuration } from "./progress.js"

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
 * A command ended with a non-zero exit code; what it had to say was already printed. The public `Cli.CliExit`.
 *
 * @internal
 */
export class CliExit {
  readonly _tag = "CliExit"
  constructor(readonly code: number) {}
}

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
 * The line a pipe gets for a finished file: one line, whatever the file's name (control characters escaped).
 *
 * @internal
 */
export const plainLine = (outcome: Outcome): string => escapeControl(plainText(outcome))

const plainText = (outcome: Outcome): string => {
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
      return `not started ${outcome.display}: ${outcome.reason}`
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
      return JSON.stringify({ ...base, status: "notStarted", reason: outcome.reason })
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
  /** Entries not uploaded on purpose (FIFOs, sockets, devices, symbolic links not followed, loops). */
  readonly skipped: number
  readonly failed: number
  readonly cancelled: number
  readonly notStarted: number
  /** Bytes of the files uploaded. */
  readonly bytes: number
  readonly millis: number
  /** Bytes uploaded per second, in MB (10^6 bytes). */
  readonly megabytesPerSecond: number
  /** Files uploaded per second. */
  readonly filesPerSecond: number
  readonly interrupted: boolean
  readonly exitCode: number
}

/**
 * @internal
 */
export const summarize = (
  outcomes: ReadonlyArray<Outcome>,
  millis: number,
  interrupted: boolean,
  skipped = 0
): Summary => {
  const count = (tag: Outcome["_tag"]) => outcomes.filter((outcome) => outcome._tag === tag).length
  const bytes = outcomes.reduce((sum, outcome) => sum + (outcome._tag === "Uploaded" ? outcome.size : 0), 0)
  const uploaded = count("Uploaded")
  const seconds = Math.max(millis, 1) / 1000
  return {
    files: outcomes.length,
    uploaded,
    skipped,
    failed: count("Failed"),
    cancelled: count("Cancelled"),
    notStarted: count("NotStarted"),
    bytes,
    millis,
    megabytesPerSecond: Math.round((bytes / 1e6 / seconds) * 1000) / 1000,
    filesPerSecond: Math.round((uploaded / seconds) * 100) / 100,
    interrupted,
    exitCode: interrupted ? ExitCode.interrupted : exitCodeOf(outcomes)
  }
}

const formatElapsed = (millis: number): string =>
  millis < 60_000 ? `${(millis / 1000).toFixed(1)} s` : formatDuration(millis)

const formatRate = (value: number): string => value < 10 ? value.toFixed(2) : value.toFixed(1)

/**
 * The last line on a pipe or terminal: files uploaded, skipped and failed, bytes, elapsed time and the rates.
 *
 * @internal
 */
export const summaryLine = (summary: Summary, target?: Target): string => {
  const parts = [`${summary.uploaded} uploaded`, `${summary.skipped} skipped`, `${summary.failed} failed`]
  if (summary.cancelled > 0) parts.push(`${summary.cancelled} cancelled`)
  if (summary.notStarted > 0) parts.push(`${summary.notStarted} not started`)
  return `${parts.join(", ")}; ${formatBytes(summary.bytes)} in ${formatElapsed(summary.millis)} (${
    formatRate(summary.megabytesPerSecond)
  } MB/s, ${formatRate(summary.filesPerSecond)} files/s)${target === undefined ? "" : ` ${targetText(target)}`}${
    summary.interrupted ? " (interrupted)" : ""
  }`
}

/**
 * Where the files went: the API's base URL and project, and whether that is the emulator `--emulator` started.
 *
 * @internal
 */
export interface Target {
  readonly baseUrl: string
  readonly project: string
  readonly emulator: boolean
}

const targetText = (target: Target): string =>
  target.emulator
    ? `to the emulator in this process (${target.baseUrl}, project ${target.project}; nothing reached CDF)`
    : `to ${target.baseUrl}, project ${target.project}`

/**
 * The lines that list the entries skipped on purpose, with the reason of each.
 *
 * @internal
 */
export const skippedLines = (
  skipped: ReadonlyArray<{ readonly path: string; readonly reason: string }>,
  limit = 50
): ReadonlyArray<string> => {
  if (skipped.length === 0) return []
  const lines = [`Skipped ${skipped.length} entr${skipped.length === 1 ? "y" : "ies"}:`]
  for (const entry of skipped.slice(0, limit)) lines.push(`  ${escapeControl(`${entry.path}: ${entry.reason}`)}`)
  if (skipped.length > limit) lines.push(`  … and ${skipped.length - limit} more (--json lists them all)`)
  return lines
}

/**
 * The summary object `--json` prints last.
 *
 * @internal
 */
export const summaryJson = (
  summary: Summary,
  extra: { readonly left: ReadonlyArray<string>; readonly target: Target | undefined }
): string =>
  JSON.stringify({
    type: "summary",
    ...summary,
    ...(extra.target === undefined ? {} : { target: extra.target }),
    ...(summary.interrupted ? { notUploaded: extra.left } : {})
  })

/**
 * The JSON object `--json` prints for an entry skipped on purpose.
 *
 * @internal
 */
export const skippedJson = (entry: { readonly path: string; readonly reason: string }): string =>
  JSON.stringify({ type: "file", path: entry.path, status: "skipped", reason: entry.reason })

/**
 * Which credentials the run used, for the advice after an auth error.
 *
 * @internal
 */
export type Credentials = "token" | "client_credentials" | "emulator"

/**
 * What to check after an auth error, said once for the run.
 *
 * @internal
 */
export const authAdvice = (error: CdfError.AuthError, credentials: Credentials): string => {
  const token = "CDF_TOKEN (--token): it may be wrong or expired"
  const client =
    "IDP_CLIENT_ID, IDP_CLIENT_SECRET, and IDP_TOKEN_URL or IDP_TENANT_ID, and IDP_SCOPES (default {CDF_URL}/.default)"
  const check = credentials === "client_credentials"
    ? `check ${client}`
    : credentials === "token"
    ? `check ${token}; or use client credentials: ${client}`
    : "the emulator refused its own token: please report it"
  const what = error.reason === "TokenRequest"
    ? "the identity provider refused the token request"
    : error.reason === "Forbidden"
    ? "CDF answered 403 Forbidden: the credentials are valid but may not read and write files in this project"
    : "CDF answered 401 Unauthorized: the credentials were refused"
  const forbidden = error.reason === "Forbidden"
    ? "; check CDF_PROJECT and that the identity's group has files:read and files:write"
    : ""
  return `cdf-files: authentication failed: ${what}.\n` +
    `  CDF said: ${error.message}\n` +
    `  What to do: ${check}${forbidden}.\n` +
    "  Settings come from flags, the environment or ./.env.\n"
}

/**
 * What to do about files that failed because their external id is taken (409), said once; none if none did.
 *
 * @internal
 */
export const conflictAdvice = (outcomes: ReadonlyArray<Outcome>): string | undefined => {
  const taken = outcomes.filter((outcome) =>
    outcome._tag === "Failed" && outcome.error._tag === "CdfApiError" && outcome.error.status === 409
  ).length
  if (taken === 0) return undefined
  return `cdf-files: ${taken} file${taken === 1 ? "" : "s"} failed because a file with the same external id exists.\n` +
    "  What to do: pass --overwrite to replace their content, or choose another --external-id-prefix.\n"
}

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
    for (const outcome of left.slice(0, limit)) lines.push(`  ${escapeControl(outcome.display)}`)
    if (left.length > limit) lines.push(`  … and ${left.length - limit} more`)
  }
  return lines
}
