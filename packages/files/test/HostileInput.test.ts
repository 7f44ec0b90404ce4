/**
 * Hostile input costs nothing (issue 11): content that is not a content kind, a declared size that is not a size, a
 * chunk that is not bytes, a read that fails, a file that cannot be read and an option key nobody knows each end in
 * their typed error, never a defect, with zero requests or the record the call created deleted, and never retried.
 * Real emulator on a loopback port, undici, the Node spooler in place (as `NodeFilesClient` has it).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfError, Content, Files } from "@effect-cdf/files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import { makeFilesClient } from "@effect-cdf/files/NodeFilesClient"
import { Effect, ManagedRuntime, Redacted, Stream } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fieldsOf, hostile, js, onPort, yields } from "./HostileFixtures.js"
import { bytesOf } from "./TransferFixtures.js"

const detached = (): ArrayBuffer => {
  const buffer = new ArrayBuffer(16)
  structuredClone(buffer, { transfer: [buffer] })
  return buffer
}

/** 100,000 bytes in chunks of 10,000, then what is given (as one more chunk, or a failure). */
const afterBytes = (last: "string" | "eio") =>
  Stream.fromIterable(Array.from({ length: 10 }, (_, i) => bytesOf(100_000).subarray(i * 10_000, (i + 1) * 10_000))).pipe(
    Stream.concat(
      last === "string"
        ? Stream.succeed("not bytes" as unknown as Uint8Array)
        : Stream.fail(Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" }))
    )
  )

describe("hostile input costs nothing", () => {
  const beforeAnyRequest: ReadonlyArray<readonly [string, () => Content.Input, Record<string, unknown>]> = [
    ["null", () => js(null), { _tag: "InvalidContentError", reason: "Kind", content: "null" }],
    ["undefined", () => js(undefined), { _tag: "InvalidContentError", reason: "Kind", content: "undefined" }],
    ["a number", () => js(42), { _tag: "InvalidContentError", reason: "Kind", content: "a number" }],
    ["NaN", () => js(NaN), { _tag: "InvalidContentError", reason: "Kind", content: "NaN" }],
    ["a plain object", () => js({ data: "x" }), { _tag: "InvalidContentError", reason: "Kind", content: "a plain object" }],
    ["an array of bytes", () => js([1, 2, 3]), { _tag: "InvalidContentError", reason: "Kind", content: "an array" }],
    ["a detached ArrayBuffer", () => js(detached()), {
      _tag: "InvalidContentError",
      reason: "Kind",
      content: "a detached ArrayBuffer"
    }],
    ["a Uint8Array over a detached ArrayBuffer", () => {
      const view = new Uint8Array(16)
      structuredClone(view.buffer, { transfer: [view.buffer] })
      return view
    }, {
      _tag: "InvalidContentError",
      reason: "Kind",
      content: "a Uint8Array over a detached ArrayBuffer"
    }],
    ["size -1", () => Content.make(Stream.make(new Uint8Array(1)), { size: -1 }), {
      _tag: "InvalidContentError",
      reason: "Size"
    }],
    ["size NaN", () => Content.make(yields(new Uint8Array(1)), { size: NaN }), {
      _tag: "InvalidContentError",
      reason: "Size"
    }],
    ["size 1.5", () => Content.fromFactory(() => Stream.make(new Uint8Array(1)), { size: 1.5 }), {
      _tag: "InvalidContentError",
      reason: "Size"
    }],
    ["size as a string", () => Content.make(Stream.make(new Uint8Array(1)), { size: js("1") as unknown as number }), {
      _tag: "InvalidContentError",
      reason: "Size"
    }],
    ["an async iterable of strings", () => js(yields("a", "b")), {
      _tag: "InvalidContentError",
      reason: "Chunk",
      content: "an async iterable",
      chunk: 0,
      found: "a string"
    }],
    ["an async iterable whose third chunk is a number", () => js(yields(new Uint8Array(2), new Uint8Array(3), 7)), {
      _tag: "InvalidContentError",
      reason: "Chunk",
      content: "an async iterable",
      chunk: 2,
      found: "a number"
    }],
    ["a Stream of strings", () => js(Stream.make("a")), {
      _tag: "InvalidContentError",
      reason: "Chunk",
      content: "a Stream",
      chunk: 0
    }],
    ["a ReadableStream of strings", () => js(new Blob(["abc"]).stream().pipeThrough(new TextDecoderStream())), {
      _tag: "InvalidContentError",
      reason: "Chunk",
      content: "a ReadableStream",
      found: "a string"
    }],
    ["a one-shot stream of declared size with a string chunk", () =>
      Content.make(yields(new Uint8Array(10), "x"), { size: 11 }), {
      _tag: "InvalidContentError",
      reason: "Chunk",
      chunk: 1
    }],
    ["a factory of strings", () => Content.fromFactory(() => js(yields("a")) as AsyncIterable<Uint8Array>), {
      _tag: "InvalidContentError",
      reason: "Chunk"
    }],
    ["a factory that makes null", () => Content.fromFactory(() => js(null) as AsyncIterable<Uint8Array>), {
      _tag: "InvalidContentError",
      reason: "Kind",
      content: "null made by a stream factory"
    }],
    ["a factory that is not a function", () => Content.fromFactory(js("nope") as never), {
      _tag: "InvalidContentError",
      reason: "Kind"
    }],
    ["a factory that throws", () =>
      Content.fromFactory(() => {
        throw Object.assign(new Error("EACCES: permission denied, open '/secret'"), { code: "EACCES" })
      }), { _tag: "UploadError", reason: "Content", code: "EACCES" }],
    ["a stream that fails with EIO", () =>
      Content.fromFactory(() => Stream.fail(Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" }))), {
      _tag: "UploadError",
      reason: "Content",
      code: "EIO"
    }]
  ]

  for (const [name, input, expected] of beforeAnyRequest) {
    it.effect(`${name}: ${expected._tag} ${expected.reason}, zero requests`, () =>
      Effect.gen(function*() {
        const { error, files, requests } = yield* hostile(Files.uploadBytes(input(), { name: "hostile.bin" }))
        expect(fieldsOf(error)).toMatchObject(expected)
        expect(requests).toEqual([])
        expect(files).toBe(0)
      }).pipe(Effect.provide(onPort)))
  }

  it.effect("a read failure keeps its code and message", () =>
    Effect.gen(function*() {
      const { error } = yield* hostile(
        Files.uploadBytes(Content.fromFactory(() => Stream.fail(Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" }))), {
          name: "eio.bin"
        })
      )
      expect(error.message).toBe("reading the content failed: EIO: i/o error, read")
    }).pipe(Effect.provide(onPort)))

  const midUpload: ReadonlyArray<readonly [string, () => Content.Input, Record<string, unknown>, string]> = [
    ["a factory whose 11th chunk is a string, in one streamed PUT", () =>
      Content.fromFactory(() => afterBytes("string"), { size: 150_000 }), {
      _tag: "InvalidContentError",
      reason: "Chunk",
      content: "a Stream",
      chunk: 10,
      found: "a string"
    }, "POST files.create"],
    ["a one-shot stream whose 11th chunk is a string, in one streamed PUT", () =>
      Content.make(afterBytes("string"), { size: 150_000 }), {
      _tag: "InvalidContentError",
      reason: "Chunk",
      chunk: 10
    }, "POST files.create"],
    ["a one-shot stream of declared size whose string chunk comes in part 2 of 5", () =>
      Content.make(afterBytes("string"), { size: 300_000 }), {
      _tag: "InvalidContentError",
      reason: "Chunk",
      chunk: 10
    }, "POST files.initmultipartupload"],
    ["a factory that fails with EIO after 100,000 bytes", () =>
      Content.fromFactory(() => afterBytes("eio"), { size: 150_000 }), {
      _tag: "UploadError",
      reason: "Content",
      code: "EIO"
    }, "POST files.create"]
  ]

  for (const [name, input, expected, create] of midUpload) {
    it.effect(`${name}: ${expected._tag}, never retried, the record deleted`, () =>
      Effect.gen(function*() {
        const { error, files, requests } = yield* hostile(Files.uploadBytes(input(), { name: "mid.bin" }))
        expect(fieldsOf(error)).toMatchObject(expected)
        expect(error.cleanup?.deleted).toBe(true)
        expect(requests[0]).toBe(create)
        expect(requests, JSON.stringify(requests)).toContain("POST files.delete")
        // each PUT was tried once: no part number (or the single PUT) twice
        const puts = requests.filter((r) => r === "PUT storage.put").length
        expect(puts).toBeLessThanOrEqual(create === "POST files.create" ? 1 : 2)
        expect(files).toBe(0)
      }).pipe(Effect.provide(onPort)))
  }

  it.effect("a part of a multipart session that is no content: InvalidContentError, no PUT, the record deleted", () =>
    Effect.gen(function*() {
      const { error, files, requests } = yield* hostile(
        Files.withMultipartUploadSession({ name: "session.bin", parts: 2 }, (session) => session.uploadPart(0, js(null)))
      )
      expect(fieldsOf(error)).toMatchObject({ _tag: "InvalidContentError", reason: "Kind", content: "null" })
      expect(error.cleanup?.deleted).toBe(true)
      expect(requests).toEqual(["POST files.initmultipartupload", "POST files.delete"])
      expect(files).toBe(0)
    }).pipe(Effect.provide(onPort)))

  it.effect("unknown option keys: InvalidFileMetadataError naming the key, zero requests", () =>
    Effect.gen(function*() {
      const { error, requests } = yield* hostile(
        Files.uploadBytes("x", js({ name: "a.txt", nmae: "b.txt" }) as unknown as Files.UploadBytesOptions)
      )
      expect(error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "nmae" })
      expect(error.message).toContain("did you mean name?")
      expect(requests).toEqual([])
      const other = yield* hostile(
        Files.uploadBytes("x", js({ name: "a.txt", colour: "red" }) as unknown as Files.UploadBytesOptions)
      )
      expect(other.error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "colour", limit: "a known option" })
      const session = yield* hostile(
        Files.withMultipartUploadSession(js({ name: "a", parts: 2, extrenalId: "e" }) as never, () => Effect.void)
      )
      expect(session.error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "extrenalId" })
      expect(session.requests).toEqual([])
    }).pipe(Effect.provide(onPort)))

  it.effect("files given by path are opened and checked before the record is created", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-"))
      try {
        const missing = yield* hostile(NodeFiles.uploadFile(path.join(dir, "missing.bin"), { name: "m.bin" }))
        expect(fieldsOf(missing.error)).toMatchObject({ _tag: "UploadError", reason: "Content", code: "ENOENT" })
        expect(missing.error.message).toContain("ENOENT")
        expect(missing.requests).toEqual([])
        // a regular file that even root may not open for reading (a write-only sysctl): EACCES at open
        const unreadable = yield* hostile(NodeFiles.uploadFile("/proc/sys/vm/drop_caches", { name: "u.bin" }))
        expect(fieldsOf(unreadable.error)).toMatchObject({ _tag: "UploadError", reason: "Content", code: "EACCES" })
        expect(unreadable.error.message).toContain("EACCES: permission denied")
        expect(unreadable.requests).toEqual([])
        const measuredUnreadable = yield* hostile(
          Effect.flatMap(NodeFiles.contentOfSize("/proc/sys/vm/drop_caches", 0), (c) =>
            Files.uploadBytes(c, { name: "u.bin" }))
        )
        expect(fieldsOf(measuredUnreadable.error)).toMatchObject({ _tag: "UploadError", code: "EACCES" })
        expect(measuredUnreadable.requests).toEqual([])
        const directory = yield* hostile(NodeFiles.uploadFile(dir, { name: "d.bin" }))
        expect(fieldsOf(directory.error)).toMatchObject({ _tag: "UploadError", reason: "Content" })
        expect(directory.requests).toEqual([])
        const measured = yield* hostile(
          Effect.flatMap(NodeFiles.contentOfSize(path.join(dir, "gone.bin"), 10), (c) =>
            Files.uploadBytes(c, { name: "g.bin" }))
        )
        expect(fieldsOf(measured.error)).toMatchObject({ _tag: "UploadError", reason: "Content", code: "ENOENT" })
        expect(measured.requests).toEqual([])
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }).pipe(Effect.provide(onPort)))
})

describe("a file replaced by a FIFO after it was measured", () => {
  // Opening a FIFO for reading blocks until something writes to it: in the file's uninterruptible acquisition, that
  // was a hang not even an interruption ended. Each case must fail at once (the test's timeout would catch a hang).
  const withFifo = <A, E, R>(use: (dir: string, fifo: string) => Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "fifo-"))),
      (dir) => {
        const fifo = path.join(dir, "f.bin")
        return use(dir, fifo)
      },
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
  const mkfifo = (at: string) => Effect.sync(() => execFileSync("mkfifo", [at]))

  for (const size of [1000, 200_000]) {
    it.effect(`measured at ${size} bytes: UploadError Content "not a regular file", zero requests`, () =>
      withFifo((_, fifo) =>
        Effect.gen(function*() {
          yield* mkfifo(fifo)
          const { error, requests } = yield* hostile(
            Effect.flatMap(NodeFiles.contentOfSize(fifo, size), (c) => Files.uploadBytes(c, { name: "f.bin" }))
          )
          expect(fieldsOf(error)).toMatchObject({ _tag: "UploadError", reason: "Content" })
          expect(error.message).toContain("not a regular file")
          expect(requests).toEqual([])
        })
      ).pipe(Effect.provide(onPort)))
  }

  it.effect("replaced between the check and the read of its range: the upload fails at once, the record deleted", () =>
    withFifo((_, file) =>
      Effect.gen(function*() {
        fs.writeFileSync(file, bytesOf(200_000))
        const content = yield* NodeFiles.contentOfSize(file, 200_000)
        fs.rmSync(file)
        yield* mkfifo(file)
        const { error, files } = yield* hostile(Files.uploadBytes(content, { name: "f.bin" }))
        expect(fieldsOf(error)).toMatchObject({ _tag: "UploadError", reason: "Content" })
        expect(error.cleanup?.deleted).toBe(true)
        expect(files).toBe(0)
      })
    ).pipe(Effect.provide(onPort)))
})

describe("hostile input through the Promise client (NodeFilesClient)", () => {
  let emulator: ManagedRuntime.ManagedRuntime<Emulator.Emulator, unknown>
  let info: Emulator.Service
  beforeAll(async () => {
    emulator = ManagedRuntime.make(Emulator.layerServer({ port: 0 }))
    info = await emulator.runPromise(Emulator.Emulator)
  })
  afterAll(() => emulator.dispose())
  const client = () =>
    makeFilesClient({ baseUrl: info.baseUrl, project: info.project, token: Redacted.value(info.token) })
  const requests = () => emulator.runPromise(Effect.flatMap(Emulator.Emulator, (e) => e.requests))

  it("null, a number and an async iterable of strings reject with InvalidContentError, before any request", async () => {
    const files = client()
    try {
      await emulator.runPromise(Effect.flatMap(Emulator.Emulator, (e) => e.reset))
      for (const [input, reason] of [[null, "Kind"], [7, "Kind"], [yields("a", "b"), "Chunk"]] as const) {
        const rejected = await files.uploadBytes(js(input), { name: "p.bin" }).then(() => undefined, (e: unknown) => e)
        expect(rejected).toBeInstanceOf(CdfError.InvalidContentError)
        expect(rejected).toMatchObject({ _tag: "InvalidContentError", reason })
      }
      expect(await requests()).toEqual([])
    } finally {
      await files.dispose()
    }
  })

  it("after dispose(), calls reject with an Error, not a string", async () => {
    const files = client()
    await files.dispose()
    const rejected = await files.uploadBytes("x", { name: "late.txt" }).then(() => undefined, (e: unknown) => e)
    expect(rejected).toBeInstanceOf(Error)
    expect((rejected as Error).message).toContain("disposed")
    const retrieved = await files.retrieve({ id: 1 }).then(() => undefined, (e: unknown) => e)
    expect(retrieved).toBeInstanceOf(Error)
  })
})
