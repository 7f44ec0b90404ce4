#!/usr/bin/env node
// Makes sure Debian's `chromium` is at /usr/bin/chromium for the browser test (test/runtimes): when it is missing,
// installs it with apt-get (as root, or through sudo without a password). Never downloads a browser any other way.
// Run by the runtimes project's global setup (so `npm test` provisions it) and by .ci/run.
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"

export const chromiumPath = "/usr/bin/chromium"

if (!existsSync(chromiumPath)) {
  const root = typeof process.getuid === "function" && process.getuid() === 0
  const run = (args) => {
    const [command, ...rest] = root ? args : ["sudo", "-n", ...args]
    console.error(`provision-chromium: ${[command, ...rest].join(" ")}`)
    const result = spawnSync(command, rest, {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
    })
    return result.status === 0
  }
  if (!run(["apt-get", "update"]) || !run(["apt-get", "install", "-y", "chromium"])) {
    console.error(
      `provision-chromium: ${chromiumPath} is missing and apt-get could not install it; ` +
        "install Debian's chromium package (apt-get install chromium) and run the tests again"
    )
    process.exit(1)
  }
  if (!existsSync(chromiumPath)) {
    console.error(`provision-chromium: apt-get installed chromium, but ${chromiumPath} is still missing`)
    process.exit(1)
  }
}
