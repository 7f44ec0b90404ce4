import { fileURLToPath } from "node:url"
import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The library where it is not Node: headless Chromium (Debian's `chromium`, installed by the global setup when
// missing), Bun and Deno (from their npm packages' platform binaries), each uploading to the emulator.
export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: "runtimes",
      globalSetup: [fileURLToPath(new URL("./provision.ts", import.meta.url))],
      testTimeout: 60_000,
      hookTimeout: 120_000
    }
  })
)
