/**
 * Global setup of the runtimes project: makes sure Debian's `chromium` is there (scripts/provision.mjs
 * installs it with apt-get when missing) before any test starts. Never downloads a browser of its own.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export default function setup() {
  execFileSync(process.execPath, [fileURLToPath(new URL("../../scripts/provision.mjs", import.meta.url)), "chromium"], {
    stdio: "inherit"
  })
}
