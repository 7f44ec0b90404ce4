/**
 * Large files with @effect-cdf/files: automatic multipart, streams, progress, checksum, sessions, upload to an
 * existing file, waiting for `uploaded`. Quoted by docs/large-files.md.
 */
import { Content, Files, MultipartCheckpoint, Progress } from "@effect-cdf/files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import { Console, Effect, Ref, Schedule, Stream } from "effect"

const MiB = 1024 * 1024

// 1. Any content, any size: one PUT up to the single-PUT threshold (100 MiB), parts above it.
//    A stream of unknown length is read up to one part (50 MiB); past that it needs its size, a factory, or
//    NodeFiles.layer (spooling to a temporary file).
const chunks = Stream.range(1, 12).pipe(Stream.map((i) => new Uint8Array(MiB).fill(i)))

export const uploadStream = Files.uploadBytes(chunks, {
  name: "readings.bin",
  externalId: "readings-2026-11-24",
  onProgress: (p) => Console.log(`sent ${p.sent}, acknowledged ${p.acknowledged} of ${p.total}`)
})

// 2. Progress as a Stream instead of a callback.
export const progressStream = Progress.stream((onProgress) =>
  Files.uploadBytes(new Uint8Array(3 * MiB), { name: "progress.bin", onProgress })
).pipe(Stream.runForEach((p) => Console.log(`${Math.round((100 * p.acknowledged) / (p.total ?? 1))}%`)))

// 3. A checksum of what was sent, to compare with your own.
export const checked = Files.upload(Content.fromFactory(() => chunks, { size: 12 * MiB }), {
  name: "checked.bin",
  checksum: "sha256"
}).pipe(Effect.tap(({ bytes, sha256 }) => Console.log(`${bytes} bytes, sha256 ${sha256}`)))

// 4. A multipart session: you decide the parts (every part but the last > 5 MiB), send them in any order;
//    completion runs after your effect succeeds.
export const session = Files.withMultipartUploadSession(
  { name: "session.bin", externalId: "session-example", parts: 2 },
  (s) =>
    Effect.all([
      s.uploadPart(1, "the short last part"),
      s.uploadPart(0, new Uint8Array(6 * MiB))
    ], { concurrency: 2 })
)

// 5. New content for an existing file, then wait until CDF marks it uploaded.
export const replaceAndWait = Files.uploadContentBytes("new content", { externalId: "session-example" }).pipe(
  Effect.zipRight(Files.waitUntilAcknowledged({ externalId: "session-example" }, {
    schedule: Schedule.spaced("500 millis").pipe(Schedule.intersect(Schedule.recurs(20)))
  }))
)

// 6. On Node: a file from disk (parts re-read from the file on retry). Needs NodeFiles.layer (or any FileSystem).
export const uploadFromDisk = (path: string) =>
  NodeFiles.uploadFile(path, { name: "from-disk.bin" }).pipe(Effect.provide(NodeFiles.layer))

// 7. Cancel: interrupting an upload (here with a timeout) aborts its PUT and deletes the record the call created.
const slowChunks = Stream.range(1, 40).pipe(
  Stream.map(() => new Uint8Array(64 * 1024)),
  Stream.tap(() => Effect.sleep("25 millis"))
)
export const cancelled = Files.uploadBytes(Content.fromFactory(() => slowChunks, { size: 40 * 64 * 1024 }), {
  name: "slow.bin",
  externalId: "cancel-example"
}).pipe(
  Effect.timeoutOption("300 millis"), // interrupts the upload after 300 ms: the PUT is aborted, the record deleted
  Effect.zipRight(Effect.flip(Files.retrieve({ externalId: "cancel-example" }))),
  Effect.tap((error) => Console.log(`after the cancel, retrieve fails: ${error._tag}`)) // the record is gone
)

// 8. A multipart upload that survives a restart: keep its last checkpoint (here in a Ref; in an application, a file
//    or a database row) and pass it back; acknowledged parts are not sent again.
export const resumable = (saved: Ref.Ref<string | undefined>) =>
  Effect.gen(function*() {
    const stored = yield* Ref.get(saved)
    const checkpoint = stored === undefined ? undefined : yield* MultipartCheckpoint.fromJson(stored)
    return yield* Files.uploadBytes(new Uint8Array(12 * MiB), {
      name: "survey.bin",
      externalId: "survey-2026",
      multipart: true,
      resume: { checkpoint, onCheckpoint: (c) => Ref.set(saved, MultipartCheckpoint.toJson(c)) }
    })
  })

export const program: Effect.Effect<unknown, unknown, Files.Files> = Effect.gen(function*() {
  const file = yield* uploadStream
  yield* progressStream
  yield* checked
  yield* session
  const acknowledged = yield* replaceAndWait
  yield* cancelled
  const saved = yield* Ref.make<string | undefined>(undefined)
  yield* resumable(saved)
  // run again from the stored checkpoint: its one part is acknowledged, so only the completion is asked for again
  yield* resumable(saved)
  return { first: file.id, replaced: acknowledged.id, uploaded: acknowledged.uploaded }
})
