/**
 * The call's own options from a JavaScript caller (`onProgress`, `multipart`, `checksum`, `verify`, `resume`, a
 * session's `parts`), content that cannot even be looked at, and progress callbacks that misbehave: each ends in a
 * typed error before any request, never a defect, or (a callback) is ignored while the upload goes on. And the Promise
 * client's token function: called once, then again only after the API refused its token. Real emulator on a loopback
 * port, undici.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfError, Files } from "@effect-cdf/files"
import { makeFilesClient } from "@effect-cdf/files/NodeFilesClient"
import { Effect, ManagedRuntime, Redacted } from "effect"
import { fieldsOf, hostile, js, onPort } from "./HostileFixtures.js"
import { bytesOf, sha256 } from "./TransferFixtures.js"

/** Options as a JavaScript caller may give them. */
const options = (u: Record<string, unknown>): Files.UploadBytesOptions => u as unknown as Files.UploadBytesOptions

/** An object whose `key` throws when read, beside a valid name. */
const throwing = (key: string): Files.UploadBytesOptions =>
  options(Object.defineProperty({ name: "g.bin" }, key, {
    enumerable: true,
    get() {
      throw new Error(`boom: ${key}`)
    }
  }))

describe("the call's own options", () => {
  const wrongTypes: ReadonlyArray<readonly [string, Record<string, unknown>, string, string]> = [
    ["an onProgress that is a number", { onProgress: 5 }, "onProgress", "a function"],
    ["an onProgress that is an object", { onProgress: {} }, "onProgress", "a function"],
    ["checksum md5", { checksum: "md5" }, "checksum", "\"sha256\""],
    ["multipart \"yes\"", { multipart: "yes" }, "multipart", "a boolean"],
    ["verify \"yes\"", { verify: "yes" }, "verify", "a boolean"]
  ]
  for (const [name, given, option, limit] of wrongTypes) {
    it.effect(`${name}: InvalidFileMetadataError naming it, zero requests`, () =>
      Effect.gen(function*() {
        const calls = [
          Files.uploadBytes("x", options({ name: "o.bin", ...given })),
          Files.upload("x", options({ name: "o.bin", ...given }))
        ] as const
        for (const call of calls) {
          const { error, files, requests } = yield* hostile<unknown, Files.Files>(call)
          expect(error).toMatchObject({ _tag: "InvalidFileMetadataError", option, limit })
          expect(error.message).toBe(`Invalid option ${option}: must be ${limit}`)
          expect(requests).toEqual([])
          expect(files).toBe(0)
        }
        const content = yield* hostile(Files.uploadContentBytes("x", { externalId: "e" }, options(given)))
        expect(content.error).toMatchObject({ _tag: "InvalidFileMetadataError", option, limit })
        expect(content.requests).toEqual([])
      }).pipe(Effect.provide(onPort)))
  }

  for (const key of ["verify", "onProgress", "multipart", "checksum", "resume"]) {
    it.effect(`a getter that throws on ${key}: InvalidFileMetadataError for the options, zero requests`, () =>
      Effect.gen(function*() {
        const { error, requests } = yield* hostile(Files.uploadBytes("x", throwing(key)))
        expect(error).toMatchObject({
          _tag: "InvalidFileMetadataError",
          option: "options",
          limit: "an object whose properties can be read"
        })
        expect(error.message).not.toContain("boom")
        expect(requests).toEqual([])
      }).pipe(Effect.provide(onPort)))
  }

  it.effect("content whose every property throws (a Proxy): InvalidContentError Kind, zero requests", () =>
    Effect.gen(function*() {
      const proxy = new Proxy({}, {
        get() {
          throw new Error("boom")
        },
        getPrototypeOf() {
          throw new Error("boom")
        },
        has() {
          throw new Error("boom")
        }
      })
      const { error, files, requests } = yield* hostile(Files.uploadBytes(js(proxy), { name: "p.bin" }))
      expect(fieldsOf(error)).toMatchObject({
        _tag: "InvalidContentError",
        reason: "Kind",
        content: "an object whose properties cannot be read"
      })
      expect(requests).toEqual([])
      expect(files).toBe(0)
    }).pipe(Effect.provide(onPort)))

  it.effect("a session's parts outside 1 to 250: InvalidFileMetadataError parts, zero requests", () =>
    Effect.gen(function*() {
      for (const parts of [0, 251, 1.5, -1, "3", undefined]) {
        const { error, requests } = yield* hostile(
          Files.withMultipartUploadSession(js({ name: "s.bin", parts }) as never, () => Effect.void)
        )
        expect(error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "parts" })
        expect(error.message).toBe(
          typeof parts === "number"
            ? "Invalid option parts: must be an integer from 1 to 250"
            : "Invalid option parts: must be a number"
        )
        expect(requests).toEqual([])
        const content = yield* hostile(
          Files.withMultipartUploadContentSession({ externalId: "e" }, js({ parts }) as never, () => Effect.void)
        )
        expect(content.error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "parts" })
        expect(content.requests).toEqual([])
      }
      const checksum = yield* hostile(
        Files.withMultipartUploadSession(js({ name: "s.bin", parts: 2, checksum: "md5" }) as never, () => Effect.void)
      )
      expect(checksum.error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "checksum" })
      expect(checksum.requests).toEqual([])
    }).pipe(Effect.provide(onPort)))

  it.effect("a part sent with an onProgress that is not a function: InvalidFileMetadataError, no PUT, the record deleted", () =>
    Effect.gen(function*() {
      const { error, files, requests } = yield* hostile(
        Files.withMultipartUploadSession(
          { name: "s.bin", parts: 1 },
          (session) => session.uploadPart(0, "x", js({ onProgress: "no" }) as never)
        )
      )
      expect(error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "onProgress" })
      expect(error.cleanup?.deleted).toBe(true)
      expect(requests).toEqual(["POST files.initmultipartupload", "POST files.delete"])
      expect(files).toBe(0)
    }).pipe(Effect.provide(onPort)))
})

describe("a progress callback that misbehaves is ignored", () => {
  const misbehaving: ReadonlyArray<readonly [string, (calls: { n: number }) => unknown]> = [
    ["throws", (calls) => {
      calls.n++
      throw new Error("from the callback")
    }],
    ["gives no Effect", (calls) => {
      calls.n++
      return undefined
    }],
    ["gives a Promise", (calls) => {
      calls.n++
      return Promise.resolve()
    }]
  ]
  for (const [name, callback] of misbehaving) {
    it.effect(`a callback that ${name}: the upload goes on and stores its bytes`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.reset
        const bytes = bytesOf(300 * 1024) // over the single-PUT threshold: parts, each reporting progress
        const calls = { n: 0 }
        const file = yield* Files.uploadBytes(bytes, options({ name: "cb.bin", onProgress: () => callback(calls) }))
        expect(calls.n).toBeGreaterThan(1)
        const [stored] = yield* emulator.files
        expect(stored?.id).toBe(file.id)
        expect(stored?.sha256).toBe(sha256(bytes))
      }).pipe(Effect.provide(onPort)))
  }
})

describe("the Promise client (NodeFilesClient)", () => {
  let emulator: ManagedRuntime.ManagedRuntime<Emulator.Emulator, unknown>
  let info: Emulator.Service
  beforeAll(async () => {
    emulator = ManagedRuntime.make(Emulator.layerServer({ port: 0 }))
    info = await emulator.runPromise(Emulator.Emulator)
  })
  afterAll(() => emulator.dispose())
  const reset = () => emulator.runPromise(Effect.flatMap(Emulator.Emulator, (e) => e.reset))
  const requests = () => emulator.runPromise(Effect.flatMap(Emulator.Emulator, (e) => e.requests))
  const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e)

  it("a token function is called once, and again only after the API refused its token (401)", async () => {
    const given: Array<string> = []
    const files = makeFilesClient({
      baseUrl: info.baseUrl,
      project: info.project,
      // the first token is refused, every later one is the emulator's
      token: async () => {
        const token = given.length === 0 ? "expired" : Redacted.value(info.token)
        given.push(token)
        return token
      },
      singlePutThreshold: 6 * 1024 * 1024,
      partSize: 5 * 1024 * 1024
    })
    try {
      await reset()
      const small = await files.uploadBytes("x", { name: "t1.txt" })
      expect(given).toEqual(["expired", Redacted.value(info.token)])
      const large = await files.uploadBytes(bytesOf(12 * 1024 * 1024), { name: "t2.bin" })
      await files.uploadBytes("y", { name: "t3.txt" })
      const found = await files.retrieveMany([{ id: small.id }, { id: large.id }])
      expect(found.map((f) => f.id)).toEqual([small.id, large.id])
      expect(given).toHaveLength(2)
      const refused = (await requests()).filter((r) => r.status === 401)
      expect(refused).toHaveLength(1)
    } finally {
      await files.dispose()
    }
  })

  it("a token function that fails is called again by the next call", async () => {
    let calls = 0
    const files = makeFilesClient({
      baseUrl: info.baseUrl,
      project: info.project,
      token: async () => {
        calls++
        if (calls === 1) throw new Error("the vault is sealed")
        return Redacted.value(info.token)
      }
    })
    try {
      const failed = await rejection(files.uploadBytes("x", { name: "f1.txt" }))
      expect(failed).toMatchObject({ _tag: "AuthError", reason: "TokenRequest" })
      await files.uploadBytes("x", { name: "f2.txt" })
      await files.uploadBytes("x", { name: "f3.txt" })
      expect(calls).toBe(2)
    } finally {
      await files.dispose()
    }
  })

  it("options that are wrong or cannot be read reject with InvalidFileMetadataError, never throw, zero requests", async () => {
    const files = makeFilesClient({ baseUrl: info.baseUrl, project: info.project, token: Redacted.value(info.token) })
    try {
      await reset()
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ name: "a.txt", onProgress: 5 }, "onProgress"],
        [{ name: "a.txt", signal: "stop" }, "signal"],
        [throwing("onProgress"), "options"],
        [throwing("signal"), "options"],
        [null, "options"]
      ]
      for (const [given, option] of cases) {
        let promise: Promise<unknown> | undefined
        expect(() => {
          promise = files.uploadBytes("x", given as never)
        }).not.toThrow()
        const rejected = await rejection(promise!)
        expect(rejected).toBeInstanceOf(CdfError.InvalidFileMetadataError)
        expect(rejected).toMatchObject({ option })
      }
      expect(await requests()).toEqual([])
    } finally {
      await files.dispose()
    }
  })
})
