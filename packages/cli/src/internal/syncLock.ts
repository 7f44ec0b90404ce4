/**
 * One `sync` at a time on a state file. The workflow engine of a sync resumes every interrupted run it finds in its
 * state file, so two processes on one file would both work on the same run and upload its files twice (a cron job
 * that overlaps itself). A sync that writes to a SQLite state file holds `<state>.lock`, created exclusively and
 * holding its process id, until it ends; a lock whose process is gone (killed with SIGKILL, say) is taken over. A
 * dry run writes nothing and takes no lock; the runners of a PostgreSQL state share it by design.
 *
 * @internal
 */
import { Effect, type Scope } from "effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { UsageError } from "./usage.js"

/** Whether process `pid` runs (on this machine: the state file is local). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** The process holding `lock`, if it is still running. */
const holder = (lock: string): number | undefined => {
  try {
    const pid = Number(fs.readFileSync(lock, "utf8").trim())
    return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

/** Creates `lock` with this process's id; false when it exists. */
const create = (lock: string): boolean => {
  try {
    fs.writeFileSync(lock, `${process.pid}\n`, { flag: "wx" })
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
    throw e
  }
}

const busy = (state: string, pid: number) =>
  new UsageError(
    `another cdf-files sync (process ${pid}) is using the state file ${state}: wait until it ends, or give ` +
      `another --state`
  )

/**
 * Holds the lock of `state` for the scope: fails with `UsageError` when another running process holds it.
 *
 * @internal
 */
export const lockState = (state: string): Effect.Effect<void, UsageError, Scope.Scope> => {
  const lock = `${state}.lock`
  return Effect.acquireRelease(
    Effect.try({
      try: () => {
        fs.mkdirSync(nodePath.dirname(lock), { recursive: true })
        if (create(lock)) return undefined
        const pid = holder(lock)
        if (pid !== undefined) return pid
        // a lock left by a process that is gone: take it over
        fs.rmSync(lock, { force: true })
        return create(lock) ? undefined : holder(lock) ?? 0
      },
      catch: (e) => new UsageError(`cannot lock the state file ${state}: ${e instanceof Error ? e.message : String(e)}`)
    }).pipe(Effect.flatMap((pid) => pid === undefined ? Effect.void : Effect.fail(busy(state, pid)))),
    () =>
      Effect.sync(() => {
        // only our own lock
        if (readPid(lock) === process.pid) fs.rmSync(lock, { force: true })
      })
  )
}

const readPid = (lock: string): number | undefined => {
  try {
    return Number(fs.readFileSync(lock, "utf8").trim())
  } catch {
    return undefined
  }
}
