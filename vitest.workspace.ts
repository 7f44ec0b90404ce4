// The packages' test projects. The root vitest.config.ts imports this list into `test.projects`
// (loaded on its own, vitest 3.2 prints a deprecation warning for workspace files).
export default [
  "packages/files/vitest.config.ts",
  "packages/emulator/vitest.config.ts",
  "packages/ingest/vitest.config.ts",
  "packages/cli/vitest.config.ts",
  "packages/bench/vitest.config.ts",
  "test/install/vitest.config.ts",
  "test/runtimes/vitest.config.ts"
]
