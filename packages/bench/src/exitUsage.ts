/**
 * A preload (`node --import <this file> script.js ...`) that records the resource use of the process it runs in:
 * at exit, it writes `process.resourceUsage()`'s CPU time (user and system, microseconds) and peak RSS (KiB) as one
 * JSON object to the file named by `BENCH_USAGE_FILE`. The cli benchmark starts `cdf-files` and the baseline script
 * with it, so their CPU time is counted from Node's start to their exit, whatever they load, without changing them.
 * On Linux it also writes the CPU time of the main thread alone (`/proc/self/task/<pid>/stat`), the one that runs the
 * JavaScript: the rest of the process's CPU is Node's helper threads (V8 compiling and collecting garbage
 * concurrently, libuv's pool doing file-system calls).
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"

/** The main thread's user + system CPU time, microseconds, or undefined off Linux. */
const mainThreadMicros = (): number | undefined => {
  try {
    const stat = Fs.readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8")
    // the fields after the command name (which may hold spaces), from the third: utime and stime are 14 and 15
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    // in clock ticks of USER_HZ, which Linux fixes at 100 per second for user space
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks * (1_000_000 / 100) : undefined
  } catch {
    return undefined
  }
}

const file = process.env["BENCH_USAGE_FILE"]
if (file !== undefined && file !== "") {
  process.on("exit", () => {
    const usage = process.resourceUsage()
    Fs.writeFileSync(
      file,
      JSON.stringify({
        userMicros: usage.userCPUTime,
        systemMicros: usage.systemCPUTime,
        maxRssKiB: usage.maxRSS,
        mainThreadMicros: mainThreadMicros()
      })
    )
  })
}
