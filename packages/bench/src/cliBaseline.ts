/**
 * The baseline of the cli benchmark: the smallest script that does what `cdf-files upload -r <dir>` does for a flat
 * directory of small files. It lists the directory, and with `concurrency` files in flight reads each one from disk
 * (`fs.promises.readFile`) and uploads it with the plain undici calls (`POST files`, then the PUT; see
 * `internal/undici.ts`), named by its file name. No retries, validation, progress or output per file.
 *
 * Usage: `node dist/cliBaseline.js <dir> <concurrency>`, with `CDF_URL`, `CDF_PROJECT` and `CDF_TOKEN` in the
 * environment, as for `cdf-files`. Prints `uploaded <n> files` and exits 0, or exits 1 on the first failure.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { makeCalls } from "./internal/undici.js"
import { pool } from "./internal/uploader.js"

const setting = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`${name} is not set`)
  return value
}

const main = async (): Promise<void> => {
  const [dir, concurrencyText] = process.argv.slice(2)
  if (dir === undefined) throw new Error("usage: cliBaseline.js <dir> <concurrency>")
  const concurrency = Number(concurrencyText ?? "16")
  const calls = makeCalls({
    name: "baseline",
    baseUrl: setting("CDF_URL"),
    project: setting("CDF_PROJECT"),
    token: setting("CDF_TOKEN")
  })
  const names = (await Fs.readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) =>
    entry.name
  )
  await pool(names.length, concurrency, async (i) => {
    const name = names[i]
    const content = await Fs.readFile(Path.join(dir, name))
    await calls.put(await calls.create(name), content)
  })
  await calls.close()
  process.stdout.write(`uploaded ${names.length} files\n`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`baseline failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
)
