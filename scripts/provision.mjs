#!/usr/bin/env node
// Installs the system programs the tests need when a machine lacks them, from Debian's packages (never a download
// from elsewhere): `node scripts/provision.mjs [postgres] [chromium]` (default: all). `npm test` runs it first, so a
// fresh machine needs only Node and npm. Each program is looked for first; apt runs only for what is missing, and
// only as root on a Debian-like system. Anything else prints what to install and exits 1.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"

const wanted = {
  postgres: {
    present: () =>
      existsSync("/usr/lib/postgresql") &&
      readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)),
    packages: ["postgresql"]
  },
  chromium: {
    present: () => existsSync("/usr/bin/chromium"),
    packages: ["chromium"]
  }
}

const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(wanted)
const unknown = names.filter((name) => !(name in wanted))
if (unknown.length > 0) {
  console.error(`provision: unknown ${unknown.join(", ")}; known: ${Object.keys(wanted).join(", ")}`)
  process.exit(2)
}
const missing = names.filter((name) => !wanted[name].present())
if (missing.length === 0) process.exit(0)

const packages = missing.flatMap((name) => wanted[name].packages)
if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) {
  console.error(`provision: missing ${missing.join(", ")}; install the Debian packages: ${packages.join(" ")}`)
  process.exit(1)
}
const run = (args) => {
  console.error(`provision: apt-get ${args.join(" ")}`)
  const result = spawnSync("apt-get", args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  })
  return result.status === 0
}
const install = ["install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300", ...packages]
if (!run(install) && !(run(["update", "-o", "DPkg::Lock::Timeout=300"]) && run(install))) {
  console.error(`provision: apt-get could not install ${packages.join(" ")}`)
  process.exit(1)
}
const still = missing.filter((name) => !wanted[name].present())
if (still.length > 0) {
  console.error(`provision: ${still.join(", ")} still missing after apt-get`)
  process.exit(1)
}
