/**
 * The Bun and Deno executables, taken from the platform packages that the npm packages `bun` and `deno` depend on
 * (installed by pnpm like any package). Their postinstall scripts, which would only copy or link these binaries (or
 * download one when the platform package is missing), are not run: pnpm ignores them (package.json
 * `ignoredBuiltDependencies`), so nothing is downloaded.
 */
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

const require = createRequire(import.meta.url)

const cpu = (names: { readonly x64: string; readonly arm64: string }) =>
  process.arch === "arm64" ? names.arm64 : names.x64

const platformBinary = (wrapper: string, pkg: string, file: string): string => {
  const fromWrapper = createRequire(require.resolve(`${wrapper}/package.json`))
  const path = join(dirname(fromWrapper.resolve(`${pkg}/package.json`)), file)
  if (!existsSync(path)) throw new Error(`${wrapper}: ${path} is missing (is ${pkg} installed?)`)
  return path
}

/** Bun's executable, from `@oven/bun-<os>-<cpu>`. */
export const bun = (): string =>
  platformBinary("bun", `@oven/bun-${process.platform}-${cpu({ x64: "x64", arm64: "aarch64" })}`, "bin/bun")

/** Deno's executable, from `@deno/<os>-<cpu>[-glibc]`. */
export const deno = (): string =>
  platformBinary(
    "deno",
    `@deno/${process.platform}-${cpu({ x64: "x64", arm64: "arm64" })}${process.platform === "linux" ? "-glibc" : ""}`,
    "deno"
  )
