#!/usr/bin/env node
// Runs the pnpm version pinned in package.json `packageManager` (Corepack's signature check fails on
// some machines, and pnpm refuses to run under any other version), so the version is written once.
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const { packageManager } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
if (typeof packageManager !== "string" || !packageManager.startsWith("pnpm@")) {
  console.error("package.json has no `packageManager: pnpm@<version>`")
  process.exit(2)
}
const npx = process.platform === "win32" ? "npx.cmd" : "npx"
const result = spawnSync(npx, ["-y", packageManager, ...process.argv.slice(2)], {
  cwd: process.cwd(),
  stdio: "inherit",
  env: { ...process.env, COREPACK_ENABLE_STRICT: "0" }
})
if (result.error) {
  console.error(result.error.message)
  process.exit(1)
}
process.exit(result.status ?? 1)
