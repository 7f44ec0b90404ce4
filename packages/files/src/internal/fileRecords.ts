/**
 * The API steps of the `Files` operations: creating a record under the no-duplicate rules, resuming on a record a
 * lost first attempt created, completing multipart uploads and retrieving. The best-effort cleanup of a created
 * record is in `recordCleanup.ts`.
 *
 * @internal
 */
import { Clock, Duration, Effect, Exit, Fiber, Option, Redacted, Ref, Schema } from "effect"
import type * as CdfClient from "../CdfClient.js"
import * as ApiClient from "./apiClient.js"
import { type CdfApiError, type CdfError, UploadError } from "../CdfError.js"
import * as FileMetadata from "../FileMetadata.js"
import * as FileWire from "./fileWire.js"
import { ambiguousStatuses } from "./retryPolicy.js"

/** How much earlier than our first attempt a record we created may say it was created (clock skew). @internal */
export const ownershipSkewMillis = 5_000

/** A record created (or, on a proven retry, resumed) by a call, with its upload URL(s). @internal */
export interface Created<A> {
  readonly record: A
  /** Whether the call created the record (so it must delete it if it fails), as opposed to overwriting one. */
  readonly isNew: boolean
  /** Whether the record came from a resume after a 409 proved our first attempt landed. */
  readonly resumed: boolean
}

const encodeMetadata = Schema.encodeSync(FileMetadata.FileMetadata)

const metadataKeys = [
  "id",
  "externalId",
  "instanceId",
  "name",
  "directory",
  "source",
  "mimeType",
  "metadata",
  "assetIds",
  "dataSetId",
  "labels",
  "geoLocation",
  "securityCategories",
  "sourceCreatedTime",
  "sourceModifiedTime",
  "uploaded",
  "uploadedTime",
  "createdTime",
  "lastUpdatedTime"
] as const satisfies ReadonlyArray<keyof FileMetadata.FileMetadata>

/**
 * The record without the upload URL(s): only the fields of `FileMetadata`, copied onto a new `FileMetadata`. Not
 * decoded again (the record was decoded from the answer already), and not through the class constructor either,
 * which does nothing here but costs several times the copy (it merges defaults the class does not have); the
 * result is what `new FileMetadata(fields, { disableValidation: true })` gives.
 *
 * @internal
 */
export const plainMetadata = (record: FileMetadata.FileMetadata): FileMetadata.FileMetadata => {
  const fields: Record<string, unknown> = {}
  for (const key of metadataKeys) {
    const value = record[key]
    if (value !== undefined) fields[key] = value
  }
  const copy: FileMetadata.FileMetadata = Object.create(FileMetadata.FileMetadata.prototype)
  return Object.assign(copy, fields)
}

const canonical = (u: unknown): unknown => {
  if (Array.isArray(u)) return u.map(canonical)
  if (typeof u === "object" && u !== null) {
    return Object.fromEntries(
      Object.entries(u).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([k, v]) => [k, canonical(v)])
    )
  }
  return u
}

const sortedSet = (u: unknown): unknown =>
  Array.isArray(u) ? u.map((x) => JSON.stringify(canonical(x))).sort() : u

const unordered = new Set(["assetIds", "securityCategories", "labels"])

/** Whether a record shows every field of the body we sent (arrays of ids and labels compared as sets). @internal */
export const showsEveryField = (sent: FileMetadata.FileMetadataWrite, record: FileMetadata.FileMetadata): boolean =>
  {
    const fields: Record<string, unknown> = { ...encodeMetadata(record) }
    return Object.entries(sent).every(([key, value]) => {
    if (value === undefined) return true
    const actual = fields[key]
    if (unordered.has(key)) return JSON.stringify(sortedSet(value)) === JSON.stringify(sortedSet(actual))
    return JSON.stringify(canonical(value)) === JSON.stringify(canonical(actual))
    })
  }

/** An idempotent `POST {path}` with the body `{ items: [item] }`, answering the decoded body. */
const oneItem = <A, I>(
  client: CdfClient.Service,
  path: string,
  item: unknown,
  response: Schema.Schema<A, I>,
  urlParams?: Record<string, string>
): Effect.Effect<A, CdfError> =>
  client.request({
    method: "POST",
    path,
    urlParams,
    body: ApiClient.jsonBody(FileWire.UnknownItems, { items: [item] }),
    response,
    retry: "idempotent"
  }).pipe(Effect.map((answer) => answer.value))

/** `files/byids` for one file. @internal */
export const retrieve = (
  client: CdfClient.Service,
  identifier: FileMetadata.FileIdentifier
): Effect.Effect<FileMetadata.FileMetadata, CdfError> =>
  oneItem(client, "files/byids", identifier, FileWire.FileMetadataItems).pipe(
    Effect.flatMap((response) =>
      Option.match(Option.fromNullable(response.items[0]), {
        onNone: () => Effect.dieMessage("files/byids answered 2xx without the requested item"),
        onSome: Effect.succeed
      })
    )
  )

/** What a create request (`POST files` or `initmultipartupload`) is made of. */
interface CreateArgs<A extends FileMetadata.FileMetadata, I> {
  readonly client: CdfClient.Service
  readonly path: "files" | "files/initmultipartupload"
  readonly urlParams: Record<string, string>
  readonly body: FileMetadata.FileMetadataWrite
  readonly overwrite: boolean
  readonly response: Schema.Schema<A, I>
  readonly resume: (externalId: string) => Effect.Effect<A, CdfError>
}

/**
 * Creates a record with `POST files` (single) or `POST files/initmultipartupload` (multipart): `createFile` and
 * `createMultipart` below. The no-duplicate rules:
 * - without an external id, retried only on 429 and connect-phase failures (the request was provably not processed);
 * - with an external id, retried on every transient failure, since the API refuses a second record with the same
 *   external id; a 409 on a retry (overwrite off) resumes on the record only if it is ours: `byids` shows every
 *   field we sent, `uploaded=false`, and `createdTime` no earlier than our first attempt minus 5 s; then `resume`
 *   gets fresh upload URL(s) for it. Otherwise the 409 is the error.
 *
 * @internal
 */
const createRecord = <A extends FileMetadata.FileMetadata, I>(args: CreateArgs<A, I> & {
  /**
   * Where to record the id of a record this call created, atomically with its creation: if the call is interrupted
   * while the create is in flight, the create is given `createGrace` to answer, and a record it created is recorded
   * here (so the caller's cleanup deletes it) before the interruption proceeds.
   */
  readonly register?: Ref.Ref<Option.Option<number>> | undefined
}): Effect.Effect<Created<A>, CdfError> => createRegistered(args, args.register)

/** What a create is given: the record, whether it may replace one, and where to record a record it made. @internal */
export interface NewRecord {
  readonly body: FileMetadata.FileMetadataWrite
  readonly overwrite: boolean
  /** See `createRecord`'s `register`. */
  readonly register?: Ref.Ref<Option.Option<number>> | undefined
}

/** `POST files`: a record with one upload URL, by the rules of `createRecord`. @internal */
export const createFile = (
  client: CdfClient.Service,
  args: NewRecord
): Effect.Effect<Created<FileWire.UploadFileMetadata>, CdfError> =>
  createRecord({
    client,
    path: "files",
    urlParams: { overwrite: String(args.overwrite) },
    body: args.body,
    overwrite: args.overwrite,
    response: FileWire.UploadFileMetadata,
    register: args.register,
    resume: (externalId) => uploadLink(client, { externalId })
  })

/** `POST files/initmultipartupload`: a record with `parts` upload URLs, by the rules of `createRecord`. @internal */
export const createMultipart = (
  client: CdfClient.Service,
  args: NewRecord & { readonly parts: number }
): Effect.Effect<Created<FileWire.MultiPartUploadFileMetadata>, CdfError> =>
  createRecord({
    client,
    path: "files/initmultipartupload",
    urlParams: { overwrite: String(args.overwrite), parts: String(args.parts) },
    body: args.body,
    overwrite: args.overwrite,
    response: FileWire.InitMultiPartUploadResponse,
    register: args.register,
    resume: (externalId) => multiUploadLink(client, { externalId }, args.parts)
  })

/** How long an interrupted call waits for its in-flight create to answer, to learn what to delete. @internal */
export const createGrace = Duration.seconds(10)

/**
 * `effect`, with the record it gives recorded in `slot` when it is new, atomically with its end: an interruption
 * meanwhile waits up to `createGrace` for it. Costs a fiber: used for the rare resume; the create itself records its
 * record within its attempt (`onAnswer`, `interruptGrace` of `CdfClient.request`), with no fiber of its own.
 */
const registered = <A extends FileMetadata.FileMetadata>(
  create: Effect.Effect<Created<A>, CdfError>,
  slot: Ref.Ref<Option.Option<number>>
): Effect.Effect<Created<A>, CdfError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const record = (created: Created<A>) =>
        created.isNew ? Ref.set(slot, Option.some(created.record.id)) : Effect.void
      // The child succeeds with the create's Exit: a failing fiber would be logged as "unhandled" (at Debug). It is
      // awaited, not joined: nothing it does to fiber refs matters here, and merging them costs more than the rest.
      const fiber = yield* Effect.forkDaemon(restore(Effect.exit(create)))
      const exit = yield* restore(Effect.flatten(Fiber.await(fiber))).pipe(
        Effect.onInterrupt(() =>
          // (the finalizer runs uninterruptibly: the wait must be interruptible for the grace to end it)
          Effect.interruptible(Fiber.await(fiber)).pipe(
            Effect.timeoutOption(createGrace),
            Effect.flatMap(Option.match({
              onNone: () => Fiber.interrupt(fiber),
              onSome: (done) =>
                Exit.isSuccess(done) && Exit.isSuccess(done.value) ? record(done.value.value) : Effect.void
            }))
          )
        )
      )
      const created = yield* exit
      yield* record(created)
      return created
    })
  )

/**
 * Whether a create that failed this way may nevertheless have been committed by the server: the request reached it
 * and no answer proves otherwise (request-phase transport error, attempt timeout, 408/5xx, or a 2xx whose body could
 * not be read).
 *
 * @internal
 */
export const mayHaveCommitted = (error: CdfError): boolean => {
  switch (error._tag) {
    case "CdfTransportError":
      return error.phase === "request"
    case "CdfTimeoutError":
      return error.kind === "attempt"
    case "CdfApiError":
      return ambiguousStatuses.has(error.status)
    case "CdfDecodeError":
      return error.status === undefined || (error.status >= 200 && error.status < 300)
    default:
      return false
  }
}

/** The text appended to the error of a create without external id that may have been committed. @internal */
export const unidentifiableNotice =
  " (the server may have created a file record that this call cannot identify, since no externalId was given; " +
  "pass an externalId to make such failures recoverable)"

/** A copy of the error whose message says that a record may have been created and cannot be identified. */
const unidentifiable = <E extends CdfError>(error: E): E => {
  const copy: E = Object.create(Object.getPrototypeOf(error))
  Object.assign(copy, error)
  if (error.stack !== undefined) copy.stack = error.stack
  Object.defineProperty(copy, "message", {
    value: error.message + unidentifiableNotice,
    enumerable: true,
    writable: true
  })
  return copy
}

const createRegistered = <A extends FileMetadata.FileMetadata, I>(
  args: CreateArgs<A, I>,
  slot: Ref.Ref<Option.Option<number>> | undefined
): Effect.Effect<Created<A>, CdfError> =>
  Effect.gen(function*() {
    const { body, client } = args
    const externalId = body.externalId
    const start = yield* Clock.currentTimeMillis
    // whether this run of the create was retried (one fiber runs its attempts one after another)
    let retried = false
    const ours = (record: FileMetadata.FileMetadata) => record.createdTime >= start - ownershipSkewMillis
    // With overwrite, the answer may be another writer's record we just overwrote: deleting it on failure would
    // destroy their content. Only a record that was never updated since its creation, created within our call,
    // counts as ours.
    const isNew = (record: A) => !args.overwrite || (record.createdTime === record.lastUpdatedTime && ours(record))
    return yield* client.request({
      method: "POST",
      path: args.path,
      urlParams: args.urlParams,
      // validated by validateUploadOptions and built by toWireBody: sent as is, not validated a second time
      body: ApiClient.jsonBody(FileWire.WireJson, body),
      response: args.response,
      retry: externalId === undefined ? "nonIdempotent" : "idempotent",
      onRetry: () =>
        Effect.sync(() => {
          retried = true
        }),
      // the record is recorded in the slot within the attempt that created it, also when the call is interrupted
      // meanwhile (the attempt is then given `createGrace` to answer)
      ...(slot === undefined ? {} : {
        onAnswer: (record: A) => isNew(record) ? Ref.set(slot, Option.some(record.id)) : Effect.void,
        interruptGrace: createGrace
      }),
      // recorded on the `Files.create` span below (with `traceRequests`), else on the caller's: retries as events
      span: false
    }).pipe(
      Effect.map((response): Created<A> => ({ record: response.value, isNew: isNew(response.value), resumed: false })),
      Effect.mapError((error) => externalId === undefined && mayHaveCommitted(error) ? unidentifiable(error) : error),
      Effect.catchIf(
        (error): error is CdfApiError =>
          error._tag === "CdfApiError" && error.status === 409 && externalId !== undefined && !args.overwrite,
        (conflict) =>
          Effect.gen(function*() {
            if (externalId === undefined || !retried) return yield* Effect.fail(conflict)
            const existing = yield* retrieve(client, { externalId }).pipe(Effect.option)
            const owned = Option.exists(existing, (record) =>
              !record.uploaded && ours(record) && showsEveryField(body, record))
            yield* Effect.annotateCurrentSpan("cdf.create.resume", owned)
            if (!owned) return yield* Effect.fail(conflict)
            const resumed = Effect.map(args.resume(externalId), (record): Created<A> => ({ record, isNew: true, resumed: true }))
            return yield* slot === undefined ? resumed : registered(resumed, slot)
          })
      ),
      withRequestSpan(client, "Files.create", {
        attributes: {
          "cdf.endpoint": args.path,
          "cdf.overwrite": args.overwrite,
          "http.request.method": "POST",
          "cdf.project": client.config.project
        }
      }),
      Effect.tap(({ record, resumed }) =>
        Effect.annotateCurrentSpan({ "cdf.file.id": record.id, "cdf.create.resumed": resumed })
      )
    )
  })

/**
 * A span of its own for one request or transfer inside an upload, only with `CdfConfig.traceRequests`: by default
 * the call's span (and the transfer's) record everything, retries as events (each span costs CPU on every upload).
 *
 * @internal
 */
export const withRequestSpan = (
  client: CdfClient.Service,
  name: string,
  options: { readonly attributes: Record<string, unknown> }
) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  client.config.traceRequests ? Effect.withSpan(self, name, { captureStackTrace: false, ...options }) : self

/** `files/uploadlink` for one file by external id (resume of a single upload). @internal */
export const uploadLink = (
  client: CdfClient.Service,
  identifier: FileMetadata.ContentIdentifier
): Effect.Effect<FileWire.UploadFileMetadata, CdfError> =>
  oneItem(client, "files/uploadlink", identifier, FileWire.UploadLinkResponse).pipe(
    Effect.withSpan("Files.uploadLink")
  )

/** `files/multiuploadlink?parts=` for one file (resume of a multipart upload). @internal */
export const multiUploadLink = (
  client: CdfClient.Service,
  identifier: FileMetadata.ContentIdentifier,
  parts: number
): Effect.Effect<FileWire.MultiPartUploadFileMetadata, CdfError> =>
  oneItem(client, "files/multiuploadlink", identifier, FileWire.MultiUploadLinkResponse, { parts: String(parts) })
    .pipe(Effect.withSpan("Files.multiUploadLink"))

/**
 * `files/completemultipartupload`. A failure after its retries means the bytes did not become the file's content:
 * it is an `UploadError` with reason `Completion` (status and message of the API's answer kept); an `AuthError`
 * stays an `AuthError`.
 *
 * @internal
 */
export const completeMultipart = (
  client: CdfClient.Service,
  args: { readonly id: number; readonly uploadId: string }
): Effect.Effect<void, CdfError> =>
  client.request({
    method: "POST",
    path: "files/completemultipartupload",
    body: ApiClient.jsonBody(FileWire.CompleteMultipartUploadBody, args),
    response: ApiClient.ignoreBody,
    retry: "idempotent"
  }).pipe(
    Effect.asVoid,
    Effect.mapError((error): CdfError =>
      error._tag === "AuthError" ? error : new UploadError({
        message: `completing the multipart upload of file ${args.id} failed: ${error.message}`,
        reason: "Completion",
        ...(error.request === undefined ? {} : { request: error.request }),
        ...("status" in error && typeof error.status === "number" ? { status: error.status } : {})
      })
    ),
    Effect.withSpan("Files.complete", { captureStackTrace: false, attributes: { "cdf.file.id": args.id } })
  )

/** The URL to PUT to, resolved against the base URL, out of its `Redacted`. @internal */
export const uploadUrlOf = (client: CdfClient.Service, url: Redacted.Redacted<string>): string =>
  client.resolveUploadUrl(Redacted.value(url))
