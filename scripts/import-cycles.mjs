#!/usr/bin/env node
// Fails when the built JavaScript of a package (packages/*/dist, not the bins' bundles) has an import cycle: a module
// whose static imports lead back to it, so that one of them runs before the other it needs has run. It reads the
// compiled files, where TypeScript has dropped the imports used only for types: it checks what runs, in every
// package. (@effect-cdf/files keeps the stricter rule, no cycle even of types: its test/ImportCycles.test.ts.) The walk
// itself is import-graph.mjs, shared with that test.
//   node scripts/import-cycles.mjs     (after the build; `npm run check` runs it)
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { cyclesOf } from "./import-graph.mjs"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const staticImport = /(?:^|\n)\s*(?:import|export)\s(?:[^;"']*?\sfrom\s*)?["'](\.[^"']+)["']/g

const jsFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "bundle" ? [] : jsFiles(path)
    return entry.name.endsWith(".js") ? [path] : []
  })

const cycles = []
let modules = 0
for (const pkg of readdirSync(join(root, "packages"))) {
  const dist = join(root, "packages", pkg, "dist")
  if (!existsSync(dist)) continue
  const imports = new Map()
  for (const file of jsFiles(dist)) {
    const targets = [...readFileSync(file, "utf8").matchAll(staticImport)]
      .map((match) => resolve(dirname(file), match[1]))
      .filter((target) => existsSync(target))
      .map((target) => relative(root, target))
    imports.set(relative(root, file), targets)
  }
  modules += imports.size
  cycles.push(...cyclesOf(imports))
}

if (modules === 0) {
  console.error("import-cycles: no built modules found; run the build first")
  process.exit(1)
}
if (cycles.length > 0) {
  console.error(`import-cycles: ${cycles.length} import cycle(s) in the built modules:`)
  for (const cycle of cycles) console.error(`  ${cycle}`)
  process.exit(1)
}
console.log(`import-cycles: no import cycle in ${modules} built modules`)
