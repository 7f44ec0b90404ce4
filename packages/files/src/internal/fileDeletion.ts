/**
 * `Files.delete`: deletes file records (`files/delete`) by `id` or `externalId`, any number of them, 1000 per
 * request.
 *
 * @internal
 */
import { Effect } from "effect"
import type * as CdfClient from "../CdfClient.js"
import * as ApiClient from "./apiClient.js"
import { type CdfError, InvalidFileMetadataError } from "../CdfError.js"
import { batchConcurrency, inBatches, validateEach } from "./batches.js"
import { validateIdentifier } from "./fileQueries.js"
import * as FileWire from "./fileWire.js"

/** The options of `delete`. @internal */
export interface DeleteOptions {
  /** Succeed for the ids that do not exist instead of failing with `CdfApiError` 400 (`missing`). Default false. */
  readonly ignoreUnknownIds?: boolean | undefined
}

/** Which file `delete` deletes: `{ id }` or `{ externalId }` (the spec's `FileDeleteByIdEither`). @internal */
export type DeleteIdentifier = { readonly id: number } | { readonly externalId: string }

const validateDeleteIdentifier = (input: unknown) =>
  Effect.flatMap(validateIdentifier(input), (identifier) =>
    "instanceId" in identifier
      ? Effect.fail(
        new InvalidFileMetadataError({
          option: "",
          limit: "{ id } or { externalId } (a file of a Data Modeling instance is deleted with its node)",
          message: "Invalid option: files/delete takes { id } or { externalId }"
        })
      )
      : Effect.succeed(identifier))

/**
 * `files/delete` for any number of files: checked first, then 1000 per request, 2 requests at a time. Retried as an
 * idempotent request (deleting twice leaves what deleting once leaves); see docs/resilience.md for the one answer a
 * retry can change.
 *
 * @internal
 */
export const deleteFiles = (
  client: CdfClient.Service,
  ids: ReadonlyArray<DeleteIdentifier>,
  options: DeleteOptions = {}
): Effect.Effect<void, CdfError> =>
  Effect.gen(function*() {
    const identifiers = yield* validateEach(ids, "ids", validateDeleteIdentifier)
    const ignoreUnknownIds = options.ignoreUnknownIds === true
    yield* Effect.annotateCurrentSpan({ "cdf.items": identifiers.length, "cdf.ignoreUnknownIds": ignoreUnknownIds })
    yield* inBatches(identifiers, batchConcurrency.write, (batch) =>
      client.request({
        method: "POST",
        path: "files/delete",
        body: ApiClient.jsonBody(FileWire.ItemsIgnoringUnknown, { items: batch, ignoreUnknownIds }),
        response: ApiClient.ignoreBody,
        retry: "idempotent"
      }).pipe(
        Effect.as([]),
        Effect.withSpan("Files.deleteBatch", { attributes: { "cdf.items": batch.length } })
      ))
  }).pipe(Effect.withSpan("Files.delete"))
