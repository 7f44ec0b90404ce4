/**
 * The summary of `cdf-files sync`: what this command did. The engine's summary counts the whole run, and a resumed
 * run includes the files done by the process that was interrupted; the command prints its own counts (of the files it
 * reported), and, for a resumed run, the whole run's counts labelled as such. On runners (a `postgres://` state) the
 * command follows the run and reports all its files, attached or not: its counts are the whole run's.
 *
 * @internal
 */
import type { Ingest } from "@effect-cdf/ingest"
import { formatBytes } from "./progress.js"

/**
 * The counts of the files this command reported.
 *
 * @internal
 */
export interface Counts {
  uploaded: number
  skipped: number
  failed: number
  bytes: number
}

const rate = (bytes: number, files: number, seconds: number) =>
  seconds <= 0 ? "" : ` (${formatBytes(bytes / seconds)}/s, ${(files / seconds).toFixed(1)} files/s)`

/** Where the run went: in this process, or on runners (`postgres://` state) that this command follows. */
export type Where = "local" | "runners"

/**
 * The counts of this command: the engine's for a run it started or follows on runners (the same files), its own for
 * a run it resumed.
 *
 * @internal
 */
export const thisCommand = (summary: Ingest.Summary, reported: Counts, where: Where): Counts =>
  summary.resumed && where === "local"
    ? reported
    : { uploaded: summary.uploaded, skipped: summary.skipped, failed: summary.failed, bytes: summary.bytes }

/**
 * The `--json` summary line: this command's counts and seconds, `resumed`, and for a resumed run `wholeRun`, the
 * counts of the whole run (files done before the interruption included).
 *
 * @internal
 */
export const json = (summary: Ingest.Summary, reported: Counts, where: Where): string => {
  const counts = thisCommand(summary, reported, where)
  return JSON.stringify({
    summary: {
      uploaded: counts.uploaded,
      skipped: counts.skipped,
      failed: counts.failed,
      bytes: counts.bytes,
      seconds: summary.seconds,
      resumed: summary.resumed,
      ...(summary.resumed
        ? {
          wholeRun: {
            jobId: summary.jobId,
            run: summary.run,
            uploaded: summary.uploaded,
            skipped: summary.skipped,
            failed: summary.failed,
            bytes: summary.bytes
          }
        }
        : {})
    }
  }) + "\n"
}

/**
 * The summary line (without the terminal's line erase): this command's counts, time and rate; for a resumed run, a
 * second line with the whole run's counts.
 *
 * @internal
 */
export const text = (summary: Ingest.Summary, reported: Counts, where: Where): string => {
  const counts = thisCommand(summary, reported, where)
  const what = summary.dryRun ? "would upload" : "uploaded"
  const line = `${counts.uploaded} ${what} (${formatBytes(counts.bytes)}), ${counts.skipped} skipped, ` +
    `${counts.failed} failed in ${summary.seconds.toFixed(1)} s` +
    `${summary.dryRun ? "" : rate(counts.bytes, counts.uploaded + counts.skipped, summary.seconds)}\n`
  return !summary.resumed
    ? line
    : where === "runners"
    ? line + `attached to run ${summary.run} of job ${summary.jobId}, under way on the runners: the counts are of the whole run\n`
    : line +
      `resumed run ${summary.run} of job ${summary.jobId}; the whole run, files done before the interruption included: ` +
      `${summary.uploaded} uploaded (${formatBytes(summary.bytes)}), ${summary.skipped} skipped, ${summary.failed} failed\n`
}
