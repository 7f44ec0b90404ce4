#!/usr/bin/env node
// Writes installable tarballs of the published packages into dist-packages/ (or the folder given as the first
// argument): `pnpm pack` rewrites every `workspace:*` to the real version, which `npm pack` does not (npm install
// of such a tarball fails with EUNSUPPORTEDPROTOCOL). Build first (`npm run pack` does).
//   node scripts/pack.mjs [outDir]   prints one tarball path per line
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const outDir = resolve(process.argv[2] ?? join(root, "dist-packages"))
const published = ["files", "emulator", "ingest", "cli"]

mkdirSync(outDir, { recursive: true })
const tarballs = []
for (const pkg of published) {
  const dir = join(root, "packages", pkg)
  const { name, version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  if (!existsSync(join(dir, "dist", "index.js"))) {
    console.error(`${name}: no dist/index.js, build first (npm run build)`)
    process.exit(1)
  }
  const tarball = join(outDir, `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`)
  rmSync(tarball, { force: true })
  const result = spawnSync(process.execPath, [join(root, "scripts", "pnpm.mjs"), "pack", "--pack-destination", outDir], {
    cwd: dir,
    encoding: "utf8"
  })
  if (result.status !== 0 || !existsSync(tarball)) {
    console.error(`${name}: pnpm pack failed\n${result.stdout}${result.stderr}`)
    process.exit(1)
  }
  tarballs.push(tarball)
}
console.log(tarballs.join("\n"))
