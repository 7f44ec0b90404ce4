/**
 * `uploadBytes` / `upload` with `verify: true`: the upload (with the sha256 of what was sent), then, once the API
 * marks the file uploaded, the file downloaded and its sha256 compared with what was sent. A mismatch is a
 * `DownloadError` with reason `Mismatch`. When verification fails (a mismatch, or the bytes could not be read back)
 * the record is deleted if this call created it, as for any failure after creation (the error's `cleanup` says so);
 * a record the call overwrote (`overwrite: true`, the record older than the call) is kept.
 *
 * @internal
 */
import { Clock, Effect, Option, Ref, Stream } from "effect"
import type * as CdfClient from "../CdfClient.js"
import { type CdfError, DownloadError } from "../CdfError.js"
import type * as Content from "../Content.js"
import type * as FileMetadata from "../FileMetadata.js"
import { withDeadline } from "./deadline.js"
import * as Download from "./download.js"
import * as FileRecords from "./fileRecords.js"
import { withCleanupOf } from "./recordCleanup.js"
import { sha256Factory } from "./sha256.js"
import * as UploadFlow from "./uploadFlow.js"
import type { UploadBytesOptions, UploadResult } from "./uploadTypes.js"

/** The option that turns verification on. @internal */
export interface VerifyOption {
  /**
   * After the upload, wait until the API marks the file uploaded, download it and compare its sha256 with the
   * sha256 of what was sent; a mismatch fails with `DownloadError` reason `Mismatch` (and deletes the record this
   * call created). Default false: it reads the whole file back.
   */
  readonly verify?: boolean | undefined
}

/** The hex sha256 of a stream of bytes. @internal */
export const sha256OfStream = <E, R>(stream: Stream.Stream<Uint8Array, E, R>): Effect.Effect<string, E, R> =>
  Effect.flatMap(sha256Factory, (make) =>
    Effect.suspend(() => {
      const hash = make()
      return Stream.runForEachChunk(stream, (chunks) =>
        Effect.sync(() => {
          for (const chunk of chunks) hash.update(chunk)
        })).pipe(Effect.map(() => hash.digestHex()))
    }))

/**
 * Uploads with the checksum on, then verifies the stored bytes. `acknowledged` polls until the file is marked
 * uploaded (the service's `waitUntilAcknowledged`); the record it gives is the one returned.
 *
 * @internal
 */
export const uploadVerified = (
  client: CdfClient.Service,
  acknowledged: (id: number) => Effect.Effect<FileMetadata.FileMetadata, CdfError>,
  input: Content.Input,
  options: UploadBytesOptions
): Effect.Effect<UploadResult, CdfError> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const result = yield* UploadFlow.uploadWith(client)(input, options, { checksum: "sha256" })
    const { file } = result
    const sent = result.sha256
    if (sent === undefined) return yield* Effect.dieMessage("verify: the upload gave no sha256")
    // Ours to delete: a record made by a create without overwrite, or (with overwrite) one never updated since it was
    // created within this call; the rule of fileRecords.createRecord.
    const created = options.overwrite !== true ||
      (file.createdTime === file.lastUpdatedTime && file.createdTime >= start - FileRecords.ownershipSkewMillis)
    const check = Effect.gen(function*() {
      const record = yield* acknowledged(file.id)
      const read = yield* sha256OfStream(Download.download(client, { id: file.id }))
      if (read !== sent) {
        return yield* new DownloadError({
          message: `the bytes read back from file ${file.id} are not the bytes sent (sha256 ${read}, sent ${sent})`,
          reason: "Mismatch",
          fileId: file.id,
          expectedSha256: sent,
          actualSha256: read
        })
      }
      return { ...result, file: record }
    }).pipe(Effect.withSpan("Files.verify", { attributes: { "cdf.file.id": file.id } }))
    return yield* withCleanupOf(client, (slot) =>
      Effect.zipRight(created ? Ref.set(slot, Option.some(file.id)) : Effect.void, check))
  }).pipe(withDeadline(client))
