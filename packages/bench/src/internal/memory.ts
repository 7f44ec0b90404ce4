/**
 * Memory and CPU measurement inside a process: RSS sampled every few milliseconds, and the kernel's own peak
 * (`VmHWM` in `/proc/<pid>/status`, reset through `/proc/<pid>/clear_refs`) as a cross-check that sampling
 * missed no spike; and the CPU time of another process (`/proc/<pid>/stat`).
 */
import * as Fs from "node:fs"

export interface Sampler {
  /** Stops sampling; the highest RSS seen, bytes. */
  readonly stop: () => number
}

export const sampleRss = (everyMillis = 2): Sampler => {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss()
    if (rss > peak) peak = rss
  }, everyMillis)
  return {
    stop: () => {
      clearInterval(timer)
      const rss = process.memoryUsage.rss()
      return rss > peak ? rss : peak
    }
  }
}

const statusField = (pid: number | "self", field: "VmHWM" | "VmRSS"): number | undefined => {
  try {
    const status = Fs.readFileSync(`/proc/${pid}/status`, "utf8")
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

/** The kernel's peak RSS of a process since start or the last reset, bytes (Linux only). */
export const readHwm = (pid: number | "self" = "self"): number | undefined => statusField(pid, "VmHWM")

/** The current RSS of a process, bytes (Linux only). */
export const readRss = (pid: number | "self" = "self"): number | undefined => statusField(pid, "VmRSS")

/** Resets the kernel's peak RSS of a process to its current RSS; false where that is not possible. */
export const resetHwm = (pid: number | "self" = "self"): boolean => {
  try {
    Fs.writeFileSync(`/proc/${pid}/clear_refs`, "5")
    return true
  } catch {
    return false
  }
}

/**
 * The CPU time (user + system) another process has used so far, milliseconds, from `/proc/<pid>/stat` in clock
 * ticks of 1/100 s (Linux's `USER_HZ`); undefined where that cannot be read.
 */
export const readCpuMillis = (pid: number): number | undefined => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // fields after the command name in parentheses: state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks * 10 : undefined
  } catch {
    return undefined
  }
}
