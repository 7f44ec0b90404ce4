/**
 * The modules of `src/` import each other without cycles, type-only imports included (a cycle of types still ties
 * two modules together, and TypeScript's inference then depends on the order it checks them in).
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { cyclesOf } from "../../../scripts/import-graph.mjs"

const src = fileURLToPath(new URL("../src", import.meta.url))

const importPattern = /^\s*(?:import|export)\s[^"';]*?from\s+["'](\.[^"']+)["']/gms

/** Each module of `dir` (recursively) with the modules it imports (relative imports, `.js` read as `.ts`). */
const importGraph = (dir: string): ReadonlyMap<string, ReadonlyArray<string>> => {
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f))
  return new Map(files.map((file) => [
    relative(dir, file),
    Array.from(
      readFileSync(file, "utf8").matchAll(importPattern),
      (m) => relative(dir, resolve(dirname(file), m[1].replace(/\.js$/, ".ts")))
    )
  ]))
}

describe("import cycles", () => {
  it("the walk finds a cycle, also one made of type-only imports", () => {
    expect(cyclesOf(new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]]]))).toEqual([
      "a.ts -> b.ts -> c.ts -> a.ts"
    ])
    expect(Array.from("import type { X } from \"../Files.js\"".matchAll(importPattern), (m) => m[1])).toEqual([
      "../Files.js"
    ])
  })

  it("src/ has none", () => {
    const graph = importGraph(src)
    expect(graph.get("Files.ts")).toContain("internal/filesService.ts")
    expect(cyclesOf(graph)).toEqual([])
  })
})
