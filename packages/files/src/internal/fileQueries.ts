/**
 * The reads of file records beyond `retrieve`: `retrieveMany` (`files/byids` in batches of 1000, order kept) and
 * `list` (`files/list`, a `Stream` that follows cursors). Both are reads, so every request is retried as an
 * idempotent one.
 *
 * @internal
 */
import { Chunk, Effect, Option, Stream } from "effect"
import type * as CdfClient from "../CdfClient.js"
import * as ApiClient from "./apiClient.js"
import type { CdfError } from "../CdfError.js"
import * as Identifier from "../FileIdentifier.js"
import type * as FileMetadata from "../FileMetadata.js"
import { batchConcurrency, inBatches, validateEach } from "./batches.js"
import { streamWithinDeadline } from "./deadline.js"
import * as Filter from "./fileFilter.js"
import * as FileWire from "./fileWire.js"
import * as Validation from "./metadataValidation.js"

/** The options of `retrieveMany`. @internal */
export interface RetrieveManyOptions {
  /** Leave out the files that do not exist instead of failing with `CdfApiError` 400 (`missing`). Default false. */
  readonly ignoreUnknownIds?: boolean | undefined
}

/** Checks one identifier (root `""`: the option of a fault is the field, prefixed by `validateEach`). @internal */
export const validateIdentifier = Validation.validatorOf(Identifier.FileIdentifier, "")

/**
 * `files/byids` for any number of files: checked first, then 1000 per request, 4 requests at a time, the records
 * in the order of `ids` (without the unknown ones when `ignoreUnknownIds`).
 *
 * @internal
 */
export const retrieveMany = (
  client: CdfClient.Service,
  ids: ReadonlyArray<typeof Identifier.FileIdentifier.Encoded>,
  options: RetrieveManyOptions = {}
): Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError> =>
  Effect.gen(function*() {
    const identifiers = yield* validateEach(ids, "ids", validateIdentifier)
    const ignoreUnknownIds = options.ignoreUnknownIds === true
    yield* Effect.annotateCurrentSpan({ "cdf.items": identifiers.length, "cdf.ignoreUnknownIds": ignoreUnknownIds })
    return yield* recordsInBatches(client, {
      path: "files/byids",
      items: identifiers,
      concurrency: batchConcurrency.read,
      body: (batch) => ApiClient.jsonBody(FileWire.ItemsIgnoringUnknown, { items: batch, ignoreUnknownIds }),
      span: "Files.retrieveBatch"
    })
  }).pipe(Effect.withSpan("Files.retrieveMany"))

/**
 * An idempotent `POST {path}` per batch of at most 1000 `items`, each answering `{ items: [records] }`; the records
 * of every batch, in the order of the batches.
 *
 * @internal
 */
export const recordsInBatches = <A>(client: CdfClient.Service, args: {
  readonly path: "files/byids" | "files/update"
  readonly items: ReadonlyArray<A>
  readonly concurrency: number
  readonly body: (batch: ReadonlyArray<A>) => CdfClient.JsonBody
  readonly span: string
}): Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError> =>
  inBatches(args.items, args.concurrency, (batch) =>
    client.request({
      method: "POST",
      path: args.path,
      body: args.body(batch),
      response: FileWire.FileMetadataItems,
      retry: "idempotent"
    }).pipe(
      Effect.map((answer) => answer.value.items),
      Effect.withSpan(args.span, { attributes: { "cdf.items": batch.length } })
    ))

/**
 * `files/list` as a stream of records: the filter and options checked before the first request, then one request
 * per page (`pageSize` records, default 1000), following `nextCursor` until there is none or `limit` records were
 * given. Each page is fetched when the consumer asks for it.
 *
 * @internal
 */
export const list = (
  client: CdfClient.Service,
  filter: Filter.FileFilter = {},
  options: Filter.ListOptions = {}
): Stream.Stream<FileMetadata.FileMetadata, CdfError> =>
  Stream.unwrap(Effect.gen(function*() {
    const valid = yield* Filter.validateFilter(filter)
    const { limit, pageSize = 1000 } = yield* Filter.validateListOptions(options)
    if (limit === 0) return Stream.empty
    const page = (cursor: string | undefined, remaining: number | undefined) =>
      client.request({
        method: "POST",
        path: "files/list",
        body: ApiClient.jsonBody(FileWire.WireJson, {
          filter: valid,
          limit: remaining === undefined ? pageSize : Math.min(pageSize, remaining),
          ...(cursor === undefined ? {} : { cursor })
        }),
        response: FileWire.FileMetadataPage,
        retry: "idempotent"
      }).pipe(Effect.map((answer) => answer.value))
    const pages = Stream.paginateChunkEffect(
      { cursor: undefined as string | undefined, remaining: limit },
      ({ cursor, remaining }) =>
        Effect.map(page(cursor, remaining), (answer) => {
          const items = remaining === undefined ? answer.items : answer.items.slice(0, remaining)
          const left = remaining === undefined ? undefined : remaining - items.length
          const next = answer.nextCursor ?? undefined
          const more = next !== undefined && next !== "" && (left === undefined || left > 0) && items.length > 0
          return [
            Chunk.unsafeFromArray(items),
            more ? Option.some({ cursor: next, remaining: left }) : Option.none()
          ] as const
        })
    )
    return pages
  })).pipe(streamWithinDeadline(client), Stream.withSpan("Files.list"))
