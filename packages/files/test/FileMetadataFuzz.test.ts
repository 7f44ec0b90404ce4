/**
 * Fuzzing of `Files` calls against the in-memory emulator: every invalid option set, identifier or oversize content
 * fails with a typed error, and the emulator saw zero requests (no record created, nothing sent).
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfError, Content, Files } from "@effect-cdf/files"
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Stream } from "effect"
import { junkFor, validInput, violation } from "./FileMetadataArbitraries.js"
import { inMemory } from "./FilesFixtures.js"

const SINGLE_PUT_LIMIT = 5_000_000_000
const MULTIPART_LIMIT = 250 * 4000 * 1024 * 1024

/** Runs a call on a clean emulator; gives its typed error, after checking the emulator saw no request at all. */
const failsBeforeAnyRequest = <A>(call: Effect.Effect<A, CdfError.CdfError, Files.Files>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    yield* emulator.reset
    const exit = yield* Effect.exit(call)
    const requests = yield* emulator.requests
    const files = yield* emulator.files
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([])
    expect(files).toEqual([])
    if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
    if (!Cause.isFailType(exit.cause)) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
    expect(CdfError.isCdfError(exit.cause.error)).toBe(true)
    return exit.cause.error
  })

/** What a JavaScript caller can pass where TypeScript would not let it: any value at all. */
const fromJavaScript = <T>(value: unknown): T => value as T

/** Content that must never be read: reading it fails (so a read shows up as an UploadError, not a size error). */
const unread = (size: number) =>
  fc.constantFrom(
    () => Content.make(Stream.fail(new Error("content was read")), { size }),
    () => Content.fromFactory(() => Stream.fail(new Error("content was read")), { size })
  ).map((make) => make())

const content = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 64 }),
  fc.constant(new Blob(["blob content"]))
)

const badIdentifier = fc.oneof(
  fc.constant({}),
  fc.record({ id: fc.integer({ min: 1 }), externalId: fc.string() }),
  fc.record({ externalId: fc.fullUnicodeString({ minLength: 256, maxLength: 260 }) }),
  fc.record({ instanceId: fc.record({ space: fc.constantFrom("", "1space", "a".repeat(44), "sp ace"), externalId: fc.constant("x") }) }),
  fc.record({ instanceId: fc.record({ space: fc.constant("space"), externalId: fc.constantFrom("", "_x", "a-b", "x".repeat(256)) }) }),
  fc.anything().filter((x) => typeof x !== "object" || x === null || Array.isArray(x))
)

layer(inMemory())("Files fuzz (in-memory emulator)", (it) => {
  it.effect("control: a valid upload is seen by the emulator (so zero requests means none was sent)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.reset
      const file = yield* Files.uploadBytes("hello", { name: "control.txt", metadata: { k: "v" } })
      const requests = yield* emulator.requests
      expect(requests.map((r) => r.route)).toEqual(["files.create", "storage.put"])
      const stored = yield* emulator.files
      expect(stored.map((f) => [f.id, f.size])).toEqual([[file.id, 5]])
    }))

  it.effect.prop(
    "uploadBytes with an invalid option set: InvalidFileMetadataError naming the option, zero requests",
    [content, validInput, violation],
    ([input, options, { option, patch }]) =>
      Effect.gen(function*() {
        const error = yield* failsBeforeAnyRequest(Files.uploadBytes(input, { ...options, ...patch }))
        expect(error._tag).toBe("InvalidFileMetadataError")
        expect(error._tag === "InvalidFileMetadataError" && error.option).toBe(option)
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect.prop(
    "uploadBytes with a junk option value from a JavaScript caller: typed error, zero requests",
    [validInput, fc.integer({ min: 0, max: junkFor.length - 1 }), fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true })],
    ([options, which, junk]) =>
      Effect.gen(function*() {
        const [option, isJunk] = junkFor[which]
        fc.pre(isJunk(junk))
        const error = yield* failsBeforeAnyRequest(Files.uploadBytes("x", { ...options, [option]: junk }))
        expect(error._tag === "InvalidFileMetadataError" && error.option.startsWith(option)).toBe(true)
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect.prop(
    "uploadBytes with options that are not an object at all: typed error, zero requests",
    [fc.oneof(
      fc.constantFrom(null, undefined),
      fc.anything({ withBigInt: true, withDate: true }).filter((x) =>
        typeof x !== "object" || x === null || Array.isArray(x)
      )
    )],
    ([junk]) =>
      Effect.gen(function*() {
        const upload = yield* failsBeforeAnyRequest(Files.uploadBytes("x", fromJavaScript(junk)))
        expect(upload).toMatchObject({ _tag: "InvalidFileMetadataError", option: "options" })
        // (typed, before any request; which check reports it first, `parts` or the metadata, is the session's choice)
        yield* failsBeforeAnyRequest(Files.withMultipartUploadSession(fromJavaScript(junk), () => Effect.void))
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect.prop(
    "uploadBytes of content over the single-PUT limit, forced to one PUT: FileSizeLimitError, zero requests",
    [validInput, fc.integer({ min: 1, max: 2 ** 30 }).chain((extra) => unread(SINGLE_PUT_LIMIT + extra))],
    ([options, big]) =>
      Effect.gen(function*() {
        const error = yield* failsBeforeAnyRequest(Files.uploadBytes(big, { ...options, multipart: false }))
        expect(error).toMatchObject({ _tag: "FileSizeLimitError", path: "single", limit: SINGLE_PUT_LIMIT })
        expect(error._tag === "FileSizeLimitError" && error.size > SINGLE_PUT_LIMIT).toBe(true)
      }),
    { fastCheck: { numRuns: 30 } }
  )

  it.effect.prop(
    "uploadBytes of content over the multipart limit: FileSizeLimitError, zero requests",
    [validInput, fc.integer({ min: 1, max: 2 ** 30 }).chain((extra) => unread(MULTIPART_LIMIT + extra))],
    ([options, big]) =>
      Effect.gen(function*() {
        const error = yield* failsBeforeAnyRequest(Files.uploadBytes(big, options))
        expect(error).toMatchObject({ _tag: "FileSizeLimitError", path: "multipart", limit: MULTIPART_LIMIT })
      }),
    { fastCheck: { numRuns: 30 } }
  )

  it.effect.prop(
    "invalid options AND oversize content: the options are reported, zero requests",
    [validInput, violation, unread(MULTIPART_LIMIT + 1)],
    ([options, { option, patch }, big]) =>
      Effect.gen(function*() {
        const error = yield* failsBeforeAnyRequest(Files.uploadBytes(big, { ...options, ...patch }))
        expect(error._tag === "InvalidFileMetadataError" && error.option).toBe(option)
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect.prop(
    "uploadContentBytes and retrieve with an invalid identifier: InvalidFileMetadataError, zero requests",
    [content, badIdentifier],
    ([input, file]) =>
      Effect.gen(function*() {
        const upload = yield* failsBeforeAnyRequest(Files.uploadContentBytes(input, fromJavaScript(file)))
        expect(upload._tag).toBe("InvalidFileMetadataError")
        const retrieve = yield* failsBeforeAnyRequest(Files.retrieve(fromJavaScript(file)))
        expect(retrieve._tag).toBe("InvalidFileMetadataError")
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect.prop(
    "withMultipartUploadSession with an invalid option set: InvalidFileMetadataError, zero requests, use never runs",
    [validInput, violation],
    ([options, { option, patch }]) =>
      Effect.gen(function*() {
        let used = false
        const error = yield* failsBeforeAnyRequest(
          Files.withMultipartUploadSession({ ...options, ...patch, parts: 1 }, () => Effect.sync(() => (used = true)))
        )
        expect(error._tag === "InvalidFileMetadataError" && error.option).toBe(option)
        expect(used).toBe(false)
      }),
    { fastCheck: { numRuns: 60 } }
  )
})
