#!/usr/bin/env node
// Bundles the `cdf-files` executable (packages/cli/dist/bin.js and everything it imports: this repository's packages,
// effect, @effect/*, undici, pg) into packages/cli/dist/bundle/ with esbuild, which `bin/cdf-files.js` runs. Node 20
// spends most of an unbundled start-up resolving, reading and compiling about 1500 module files; one bundle halves
// the start-up of every command (`cdf-files --version`: 1.07 s of CPU unbundled, about 0.5 s bundled; see
// docs/benchmarks.md, "The command line's start-up"). The ingest engine and the cluster stay behind their dynamic
// imports, as separate chunks loaded only by `sync` and `runner`.
// better-sqlite3 is native and stays outside the bundle: the CLI declares it as a dependency of its own, so that it
// resolves from packages/cli in this workspace as in an npm install.
// Run by `npm run build`, after tsc:  node scripts/bundle-cli.mjs
import * as esbuild from "esbuild"
import { rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const cli = fileURLToPath(new URL("../packages/cli/", import.meta.url))
const outdir = `${cli}dist/bundle`

rmSync(outdir, { recursive: true, force: true })
await esbuild.build({
  entryPoints: { "cdf-files": `${cli}dist/bin.js` },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Native (better-sqlite3) or optional native (pg-native, which pg requires only when asked for) modules.
  external: ["better-sqlite3", "pg-native"],
  // Some dependencies are CommonJS and call `require` for Node's built-in modules; an ES module has no `require`.
  banner: { js: `import { createRequire as __cdfCreateRequire } from "node:module"; const require = __cdfCreateRequire(import.meta.url);` },
  chunkNames: "chunk-[hash]",
  logLevel: "warning"
})
