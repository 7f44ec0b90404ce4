/**
 * The Promise API of @effect-cdf/files, for code that is not an Effect program. Quoted by docs/promise-api.md.
 * `main` runs against any CDF project or emulator: `main({ baseUrl, project, token })`.
 */
import { CdfError } from "@effect-cdf/files"
import { makeFilesClient } from "@effect-cdf/files/NodeFilesClient"
import { randomUUID } from "node:crypto"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const main = async (env: { baseUrl: string; project: string; token: string }) => {
  // 1. A client: settings are checked here (a bad URL throws InvalidConfigError at once).
  const client = makeFilesClient({ baseUrl: env.baseUrl, project: env.project, token: env.token })
  const externalId = `promise-example-${randomUUID()}`
  const dir = await mkdtemp(join(tmpdir(), "promise-example-"))
  try {
    // 2. Upload bytes: any content (string, Uint8Array/Buffer, Blob, streams) with every upload_bytes option.
    const file = await client.uploadBytes("hello from plain async code", {
      name: "hello.txt",
      externalId,
      mimeType: "text/plain",
      metadata: { origin: "docs/examples/promise.ts" }
    })
    console.log(`uploaded ${file.name} as file ${file.id}`)

    // 3. Upload a file from disk, with progress.
    const path = join(dir, "report.csv")
    await writeFile(path, "site,value\noslo,42\n")
    await client.uploadFile(path, {
      name: "report.csv",
      onProgress: (p) => console.log(`${p.acknowledged}/${p.total} bytes`)
    })

    // 4. Failures reject with the library's own errors: check `instanceof` or `_tag`, read the fields.
    try {
      await client.uploadBytes("again", { name: "hello.txt", externalId })
    } catch (error) {
      if (error instanceof CdfError.CdfApiError && error.status === 409) {
        console.log(`already there: ${JSON.stringify(error.duplicated)} (request ${error.requestId})`)
      } else {
        throw error
      }
    }

    // 5. Cancel with an AbortSignal: the upload stops, the record it created is deleted, the Promise rejects.
    const controller = new AbortController()
    const upload = client.uploadBytes(new Uint8Array(1024), { name: "cancelled.bin", signal: controller.signal })
    controller.abort()
    await upload.catch((error: unknown) => console.log(`cancelled: ${error instanceof Error ? error.name : String(error)}`))

    // 6. Read a record back.
    return await client.retrieve({ externalId })
  } finally {
    await client.dispose()
    await rm(dir, { recursive: true, force: true })
  }
}
