/**
 * A preload (`node --import <this file> script.js ...`) that records the resource use of the process it runs in:
 * at exit, it writes `process.resourceUsage()`'s CPU time (user and system, microseconds) and peak RSS (KiB) as one
 * JSON object to the file named by `BENCH_USAGE_FILE`. The cli benchmark starts `cdf-files` and the baseline script
 * with it, so their CPU time is counted from Node's start to their exit, whatever they load, without changing them.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"

const file = process.env["BENCH_USAGE_FILE"]
if (file !== undefined && file !== "") {
  process.on("exit", () => {
    const usage = process.resourceUsage()
    Fs.writeFileSync(
      file,
      JSON.stringify({ userMicros: usage.userCPUTime, systemMicros: usage.systemCPUTime, maxRssKiB: usage.maxRSS })
    )
  })
}
