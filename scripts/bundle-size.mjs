#!/usr/bin/env node
// The size of the minimal browser upload program (test/runtimes/src/minimal.ts: the library over FetchHttpClient, a
// static token, a string and a Blob), bundled by esbuild for the browser (ESM, minified) over the built packages:
// minified bytes, gzip bytes, and the minified bytes of each package in it (from esbuild's metafile).
// Run after `npm run build`:  node scripts/bundle-size.mjs [--json]
import * as esbuild from "esbuild"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"

const root = fileURLToPath(new URL("..", import.meta.url))

const result = await esbuild.build({
  entryPoints: [`${root}test/runtimes/src/minimal.ts`],
  bundle: true,
  write: false,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  metafile: true,
  logLevel: "error",
  alias: { "@effect-cdf/files": `${root}packages/files/dist/index.js` },
  nodePaths: [`${root}node_modules`]
})
const code = result.outputFiles[0].contents
const gzip = gzipSync(code).byteLength

const packageOf = (path) => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(path)
  if (match !== null) return match[1]
  if (path.includes("packages/files/")) return "@effect-cdf/files"
  return "(program)"
}
const byPackage = {}
for (const output of Object.values(result.metafile.outputs)) {
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    byPackage[packageOf(path)] = (byPackage[packageOf(path)] ?? 0) + bytesInOutput
  }
}
const kb = (n) => `${(n / 1024).toFixed(0)} KB`
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ minified: code.byteLength, gzip, byPackage }))
} else {
  console.log(`minimal browser upload program (esbuild ${esbuild.version}, ESM, minified, browser)`)
  console.log(`  minified: ${kb(code.byteLength)} (${code.byteLength} bytes)`)
  console.log(`  gzip:     ${kb(gzip)} (${gzip} bytes)`)
  for (const [name, bytes] of Object.entries(byPackage).sort((a, b) => b[1] - a[1])) {
    console.log(`  ${name.padEnd(20)} ${kb(bytes)}`)
  }
}
