// The import cycles of a module graph, found by a depth-first walk: shared by scripts/import-cycles.mjs (the built
// JavaScript of every package: what runs) and packages/files/test/ImportCycles.test.ts (the TypeScript sources of
// @effect-cdf/files: no cycle even of types). Types: import-graph.d.mts.

/**
 * Every cycle of `graph` (each module with the modules it imports), as `a -> b -> a`: a module met again while it is
 * still on the walk's path closes one.
 */
export const cyclesOf = (graph) => {
  const cycles = []
  const state = new Map()
  const visit = (module, path) => {
    state.set(module, "open")
    for (const next of graph.get(module) ?? []) {
      if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next].join(" -> "))
      else if (!state.has(next)) visit(next, [...path, next])
    }
    state.set(module, "done")
  }
  for (const module of graph.keys()) if (!state.has(module)) visit(module, [module])
  return cycles
}
