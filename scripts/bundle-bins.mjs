#!/usr/bin/env node
// Bundles the two executables with esbuild: `cdf-files` (packages/cli/dist/bin.js) into packages/cli/dist/bundle/ and
// `cdf-emulator` (packages/emulator/dist/bin.js) into packages/emulator/dist/bundle/, each with everything it imports
// (this repository's packages, effect, @effect/*, undici, pg). Their `bin/*.js` run the bundles. Node 20 spends most of
// an unbundled start-up resolving, reading and compiling about a thousand module files (1002 for `--version`); one
// bundle halves the start-up of every command (`cdf-files --version`: 1.03 s unbundled, 0.45 s bundled; see
// docs/benchmarks.md, "The command line's start-up"). What the CLI imports dynamically (the ingest engine for `sync`,
// the cluster for `runner`, the emulator for `--emulator`) stays in chunks of its own, loaded only by the commands that
// use it. better-sqlite3 is native and stays outside the bundle: the CLI declares it as a dependency of its own, so
// that it resolves from packages/cli in this workspace as in an npm install.
// Run by `npm run build`, after tsc:  node scripts/bundle-bins.mjs
import * as esbuild from "esbuild"
import { rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const executables = [
  { name: "cdf-files", dir: fileURLToPath(new URL("../packages/cli/", import.meta.url)) },
  { name: "cdf-emulator", dir: fileURLToPath(new URL("../packages/emulator/", import.meta.url)) }
]

for (const { dir, name } of executables) {
  const outdir = `${dir}dist/bundle`
  rmSync(outdir, { recursive: true, force: true })
  await esbuild.build({
    entryPoints: { [name]: `${dir}dist/bin.js` },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Native (better-sqlite3) or optional native (pg-native, which pg requires only when asked for) modules.
    external: ["better-sqlite3", "pg-native"],
    // Some dependencies are CommonJS and call `require` for Node's built-in modules; an ES module has no `require`.
    banner: {
      js: `import { createRequire as __cdfCreateRequire } from "node:module"; const require = __cdfCreateRequire(import.meta.url);`
    },
    chunkNames: "chunk-[hash]",
    logLevel: "warning"
  })
}
