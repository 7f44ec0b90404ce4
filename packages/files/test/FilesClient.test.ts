import { CdfError, FileMetadata, FilesClient } from "@effect-cdf/files"
import { makeFilesClient } from "@effect-cdf/files/NodeFilesClient"
import { Emulator } from "@effect-cdf/emulator"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { ManagedRuntime } from "effect"
import { ManagedRuntime as Runtime } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Readable } from "node:stream"

// One emulator on a real loopback port for the whole file; each test uses its own names and external ids.
let emulator: ManagedRuntime.ManagedRuntime<Emulator.Emulator, unknown>
let info: Emulator.Service
let tmp: string

beforeAll(async () => {
  emulator = Runtime.make(Emulator.layerServer({ port: 0 }))
  info = await emulator.runPromise(Emulator.Emulator)
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "files-client-"))
})

afterAll(async () => {
  await emulator.dispose()
  fs.rmSync(tmp, { recursive: true, force: true })
})

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")
const stored = async (name: string) =>
  (await emulator.runPromise(Effect.flatMap(Emulator.Emulator, (e) => e.files))).filter((f) => f.name === name)
const connection = () => ({ baseUrl: info.baseUrl, project: info.project, token: Redacted.value(info.token) })

describe("makeFilesClient (Promise API) against the emulator on a real port", () => {
  it("uploads bytes and resolves with the record (fetch transport)", async () => {
    const client = FilesClient.makeFilesClient(connection())
    try {
      const file = await client.uploadBytes("hello from a promise", {
        name: "promise-hello.txt",
        externalId: "promise-hello",
        mimeType: "text/plain",
        metadata: { kind: "test" }
      })
      expect(file).toBeInstanceOf(FileMetadata.FileMetadata)
      expect(file.externalId).toBe("promise-hello")
      const [record] = await stored("promise-hello.txt")
      expect(record.id).toBe(file.id)
      expect(record.sha256).toBe(sha256("hello from a promise"))
      const again = await client.retrieve({ externalId: "promise-hello" })
      expect(again.id).toBe(file.id)
      expect(again.metadata).toEqual({ kind: "test" })
    } finally {
      await client.dispose()
    }
  })

  it("uploadFile (Node) streams a file, reporting progress up to its size", async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) % 251)
    const file = path.join(tmp, "data.bin")
    fs.writeFileSync(file, bytes)
    const client = makeFilesClient(connection())
    const seen: Array<{ sent: number; acknowledged: number; total: number | undefined }> = []
    try {
      const record = await client.uploadFile(file, { name: "promise-file.bin", onProgress: (p) => seen.push(p) })
      const [emulated] = await stored("promise-file.bin")
      expect(emulated.id).toBe(record.id)
      expect(emulated.sha256).toBe(sha256(bytes))
      expect(emulated.puts.map((p) => p.contentLength)).toEqual([bytes.length])
      expect(seen.length).toBeGreaterThan(0)
      expect(seen.at(-1)).toEqual({ sent: bytes.length, acknowledged: bytes.length, total: bytes.length })
      for (let i = 1; i < seen.length; i++) expect(seen[i].sent).toBeGreaterThanOrEqual(seen[i - 1].sent)
    } finally {
      await client.dispose()
    }
  })

  it("upload gives the sha256 sent; uploadContentBytes replaces content; waitUntilAcknowledged sees uploaded", async () => {
    const client = makeFilesClient(connection())
    try {
      const result = await client.upload("checked", { name: "promise-checked.txt", externalId: "promise-checked", checksum: "sha256" })
      expect(result).toMatchObject({ bytes: 7, sha256: sha256("checked") })
      await client.uploadContentBytes("replaced content", { externalId: "promise-checked" })
      const [record] = await stored("promise-checked.txt")
      expect(record.id).toBe(result.file.id)
      expect(record.sha256).toBe(sha256("replaced content"))
      const acknowledged = await client.waitUntilAcknowledged({ id: result.file.id })
      expect(acknowledged.uploaded).toBe(true)
    } finally {
      await client.dispose()
    }
  })

  it("uploads a Node stream of unknown length (Node client)", async () => {
    const client = makeFilesClient(connection())
    try {
      const chunks = ["one ", "two ", "three"].map((s) => Buffer.from(s))
      await client.uploadBytes(Readable.from(chunks), { name: "promise-stream.txt" })
      const [record] = await stored("promise-stream.txt")
      expect(record.sha256).toBe(sha256("one two three"))
    } finally {
      await client.dispose()
    }
  })

  it("rejects with the library's own error, not a FiberFailure: _tag, fields and instanceof kept", async () => {
    const client = makeFilesClient(connection())
    try {
      await client.uploadBytes("first", { name: "promise-dup.txt", externalId: "promise-dup" })
      const error = await client.uploadBytes("second", { name: "promise-dup.txt", externalId: "promise-dup" })
        .then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(CdfError.CdfApiError)
      expect(CdfError.isCdfError(error)).toBe(true)
      expect(error).toMatchObject({ _tag: "CdfApiError", status: 409, code: 409 })
      expect((error as CdfError.CdfApiError).duplicated).toEqual([{ externalId: "promise-dup" }])
      expect(Object.getOwnPropertySymbols(error).map(String)).not.toContain("Symbol(effect/Runtime/FiberFailure)")
      expect(await stored("promise-dup.txt")).toHaveLength(1)
    } finally {
      await client.dispose()
    }
  })

  it("rejects a bad option with InvalidFileMetadataError before any request", async () => {
    const client = makeFilesClient(connection())
    try {
      const error = await client.uploadBytes("x", { name: "promise-bad.txt", source: "s".repeat(129) })
        .then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(CdfError.InvalidFileMetadataError)
      expect(error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "source" })
      expect(await stored("promise-bad.txt")).toHaveLength(0)
    } finally {
      await client.dispose()
    }
  })

  it("rejects a wrong token with AuthError (401)", async () => {
    const client = FilesClient.makeFilesClient({ ...connection(), token: "not-a-token" })
    try {
      const error = await client.uploadBytes("x", { name: "promise-auth.txt" }).then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(CdfError.AuthError)
      expect(error).toMatchObject({ _tag: "AuthError", reason: "Unauthorized", status: 401 })
      expect(String((error as Error).message)).not.toContain("not-a-token")
    } finally {
      await client.dispose()
    }
  })

  it("throws InvalidConfigError at once for plain http:// to a remote host, and for missing environment names", () => {
    expect(() => makeFilesClient({ baseUrl: "http://example.com", project: "p", token: "t" }))
      .toThrow(CdfError.InvalidConfigError)
    let error: unknown
    try {
      makeFilesClient({ fromEnv: true, env: { CDF_URL: info.baseUrl, CDF_TOKEN: "t" } })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(CdfError.InvalidConfigError)
    expect(error).toMatchObject({ setting: "CDF_PROJECT" })
  })

  it("reads its settings from an environment (fromEnv), and authenticates with client credentials", async () => {
    const fromEnv = makeFilesClient({
      fromEnv: true,
      env: { CDF_URL: info.baseUrl, CDF_PROJECT: info.project, CDF_TOKEN: Redacted.value(info.token) }
    })
    const credentials = makeFilesClient({
      baseUrl: info.baseUrl,
      project: info.project,
      clientCredentials: { tokenUrl: info.tokenUrl, clientId: info.clientId, clientSecret: info.clientSecret }
    })
    try {
      const a = await fromEnv.uploadBytes("env", { name: "promise-env.txt" })
      const b = await credentials.uploadBytes("cc", { name: "promise-cc.txt" })
      expect((await stored("promise-env.txt"))[0].id).toBe(a.id)
      expect((await stored("promise-cc.txt"))[0].sha256).toBe(sha256("cc"))
      expect(b.name).toBe("promise-cc.txt")
    } finally {
      await fromEnv.dispose()
      await credentials.dispose()
    }
  })

  it("an aborted signal cancels the upload: the PUT is aborted, the record deleted, the Promise rejects", async () => {
    const client = makeFilesClient(connection())
    await emulator.runPromise(Effect.flatMap(
      Emulator.Emulator,
      (e) => e.addFault({ route: "storage.put", action: { _tag: "Hang" } })
    ))
    try {
      const controller = new AbortController()
      let putStarted: () => void = () => {}
      const started = new Promise<void>((resolve) => (putStarted = resolve))
      const upload = client.uploadBytes("never arrives", {
        name: "promise-abort.txt",
        signal: controller.signal,
        onProgress: (p) => p.sent > 0 && putStarted()
      }).then(() => undefined, (e: unknown) => e)
      // the PUT is in flight (its body is being sent) and storage hangs
      await started
      expect(await stored("promise-abort.txt")).toHaveLength(1)
      controller.abort()
      const error = await upload
      expect(error).toBeInstanceOf(DOMException)
      expect((error as DOMException).name).toBe("AbortError")
      expect(await stored("promise-abort.txt")).toHaveLength(0)
      // an already-aborted signal rejects without a request
      const before = (await emulator.runPromise(Effect.flatMap(Emulator.Emulator, (e) => e.requests))).length
      const early = await client.uploadBytes("x", { name: "promise-early.txt", signal: AbortSignal.abort() })
        .then(() => undefined, (e: unknown) => e)
      expect((early as DOMException).name).toBe("AbortError")
      const after = (await emulator.runPromise(Effect.flatMap(Emulator.Emulator, (e) => e.requests))).length
      expect(after).toBe(before)
    } finally {
      await emulator.runPromise(Effect.flatMap(Emulator.Emulator, (e) => e.clearFaults))
      await client.dispose()
    }
  })
})
