import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const packages = fileURLToPath(new URL("./packages", import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run from `src`: workspace packages resolve to their sources, not to `dist`.
    alias: [
      { find: /^@effect-cdf\/(files|emulator|ingest|cli)$/, replacement: `${packages}/$1/src/index.ts` },
      { find: /^@effect-cdf\/(files|emulator|ingest|cli)\/(.+)$/, replacement: `${packages}/$1/src/$2.ts` }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: [fileURLToPath(new URL("./vitest.setup.ts", import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
