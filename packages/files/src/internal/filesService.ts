/**
 * The construction of the `Files` service on a `CdfClient`: each operation of `Files.Service` wired to its code
 * (`uploadFlow.ts`, `multipartSession.ts`, `fileRecords.ts`, `verifiedUpload.ts`, `fileQueries.ts`,
 * `fileUpdates.ts`, `fileDeletion.ts`, `download.ts`), under the client's deadline (`deadline.ts`); and `retrieve` /
 * `waitUntilAcknowledged`, which only read records. Two kinds of operation are not under the deadline: the
 * multipart sessions, which run the caller's own code between their calls (each call has its attempt timeout), and
 * `waitUntilAcknowledged`, which its poll schedule bounds.
 *
 * @internal
 */
import { Clock, Duration, Effect, Schedule, type Stream } from "effect"
import type * as CdfClient from "../CdfClient.js"
import { type CdfError, CdfTimeoutError, InvalidFileMetadataError } from "../CdfError.js"
import type * as Content from "../Content.js"
import * as Identifier from "../FileIdentifier.js"
import type * as FileMetadata from "../FileMetadata.js"
import { asksVerify } from "./callOptions.js"
import { withDeadline } from "./deadline.js"
import * as Download from "./download.js"
import * as Deletion from "./fileDeletion.js"
import type * as Filter from "./fileFilter.js"
import * as Queries from "./fileQueries.js"
import * as FileRecords from "./fileRecords.js"
import * as Updates from "./fileUpdates.js"
import * as MultipartSession from "./multipartSession.js"
import * as UploadFlow from "./uploadFlow.js"
import type {
  MultipartUploadSession,
  MultipartUploadSessionOptions,
  UploadBytesOptions,
  UploadContentOptions,
  UploadResult
} from "./uploadTypes.js"
import * as Verified from "./verifiedUpload.js"

/** Which file `retrieve` reads, as a caller passes it (checked before use). */
type FileIdentifier = typeof Identifier.FileIdentifier.Encoded

const retrieveWith = (client: CdfClient.Service) => (file: FileIdentifier) =>
  Identifier.validateFileIdentifier(file).pipe(
    Effect.flatMap((identifier) => FileRecords.retrieve(client, identifier)),
    withDeadline(client),
    Effect.withSpan("Files.retrieve")
  )

/** Options from a JavaScript caller may be anything: anything but an object fails as an invalid option. */
const anObject = <A>(options: A): Effect.Effect<A, InvalidFileMetadataError> =>
  typeof options === "object" && options !== null
    ? Effect.succeed(options)
    : Effect.fail(
      new InvalidFileMetadataError({
        option: "options",
        limit: "an object",
        message: "Invalid option options: must be an object"
      })
    )

/**
 * The operations of `Files.Service` on a `CdfClient` (`Files.make` gives them as the service).
 *
 * @internal
 */
export const make = (client: CdfClient.Service) => {
  const upload = UploadFlow.uploadWith(client)
  const uploadBytes = UploadFlow.uploadBytesWith(client)
  const acknowledged = (id: number) => waitUntilAcknowledged(client, { id })
  const verifying = (options: unknown): options is Verified.VerifyOption => asksVerify(options)
  const verified = (content: Content.Input, options: UploadBytesOptions) =>
    Verified.uploadVerified(client, acknowledged, content, options).pipe(
      Effect.withSpan("Files.uploadVerified", { captureStackTrace: false })
    )
  const uploadMaybeVerified = (
    content: Content.Input,
    options: UploadBytesOptions & Verified.VerifyOption
  ): Effect.Effect<UploadResult, CdfError> => verifying(options) ? verified(content, options) : upload(content, options)
  return {
    uploadBytes: (
      content: Content.Input,
      options: UploadBytesOptions & Verified.VerifyOption
    ): Effect.Effect<FileMetadata.FileMetadata, CdfError> =>
      verifying(options)
        ? Effect.map(verified(content, options), (result) => result.file)
        : uploadBytes(content, options),
    retrieve: retrieveWith(client),
    upload: uploadMaybeVerified,
    uploadContentBytes: (
      content: Content.Input,
      file: FileMetadata.ContentIdentifier,
      options?: UploadContentOptions
    ): Effect.Effect<FileMetadata.FileMetadata, CdfError> =>
      UploadFlow.uploadContentBytes(client, content, file, options ?? {}).pipe(
        Effect.map((result) => result.file),
        withDeadline(client)
      ),
    withMultipartUploadSession: <A, E, R>(
      options: MultipartUploadSessionOptions,
      use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | CdfError, R> =>
      Effect.flatMap(anObject(options), (options) => MultipartSession.withMultipartUploadSession(client, options, use)),
    withMultipartUploadContentSession: <A, E, R>(
      file: FileMetadata.ContentIdentifier,
      options: { readonly parts: number; readonly checksum?: "sha256" | undefined },
      use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | CdfError, R> =>
      Effect.flatMap(
        anObject(options),
        (options) => MultipartSession.withMultipartUploadContentSession(client, file, options, use)
      ),
    waitUntilAcknowledged: (
      file: FileIdentifier,
      options?: { readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined }
    ): Effect.Effect<FileMetadata.FileMetadata, CdfError> => waitUntilAcknowledged(client, file, options?.schedule),
    retrieveMany: (
      ids: ReadonlyArray<FileIdentifier>,
      options?: Queries.RetrieveManyOptions
    ): Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError> =>
      Queries.retrieveMany(client, ids, options).pipe(withDeadline(client)),
    list: (
      filter?: Filter.FileFilter,
      options?: Filter.ListOptions
    ): Stream.Stream<FileMetadata.FileMetadata, CdfError> => Queries.list(client, filter, options),
    update: (changes: ReadonlyArray<Updates.FileChange>): Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError> =>
      Updates.update(client, changes).pipe(withDeadline(client)),
    delete: (
      ids: ReadonlyArray<Deletion.DeleteIdentifier>,
      options?: Deletion.DeleteOptions
    ): Effect.Effect<void, CdfError> => Deletion.deleteFiles(client, ids, options).pipe(withDeadline(client)),
    downloadUrl: (file: FileIdentifier, options?: Download.DownloadOptions) =>
      Download.downloadUrl(client, file, options),
    download: (file: FileIdentifier, options?: Download.DownloadOptions): Stream.Stream<Uint8Array, CdfError> =>
      Download.download(client, file, options)
  }
}

/** The default poll of `waitUntilAcknowledged`: 200 ms growing by 1.5, at most 2 s apart, 12 polls (about 15 s). @internal */
export const defaultAcknowledgeSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("200 millis", 1.5)
  .pipe(
    Schedule.union(Schedule.spaced("2 seconds")),
    Schedule.intersect(Schedule.recurs(11))
  )

/**
 * Polls `byids` on `schedule` until the file's `uploaded` is true; gives up with `CdfTimeoutError` kind `deadline`
 * when the schedule ends first.
 *
 * @internal
 */
export const waitUntilAcknowledged = (
  client: CdfClient.Service,
  file: FileIdentifier,
  schedule: Schedule.Schedule<unknown, unknown> = defaultAcknowledgeSchedule
): Effect.Effect<FileMetadata.FileMetadata, CdfError> =>
  Effect.gen(function*() {
    const identifier = yield* Identifier.validateFileIdentifier(file)
    const start = yield* Clock.currentTimeMillis
    let polls = 0
    let last: FileMetadata.FileMetadata | undefined
    yield* FileRecords.retrieve(client, identifier).pipe(
      Effect.tap((record) =>
        Effect.sync(() => {
          polls++
          last = record
        })
      ),
      Effect.repeat({ schedule, while: (record) => !record.uploaded })
    )
    if (last === undefined) return yield* Effect.dieMessage("waitUntilAcknowledged: no poll ran")
    if (last.uploaded) return last
    const elapsed = (yield* Clock.currentTimeMillis) - start
    return yield* new CdfTimeoutError({
      message: `file ${last.id} was still not marked uploaded after ${polls} poll(s) over ${
        Duration.format(Duration.millis(elapsed))
      }`,
      kind: "deadline",
      timeoutMillis: elapsed
    })
  }).pipe(Effect.withSpan("Files.waitUntilAcknowledged"))
