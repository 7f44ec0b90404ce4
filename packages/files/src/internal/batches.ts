/**
 * Lists of items for the `items` endpoints (`byids`, `update`, `delete`): each item checked before any request (an
 * `InvalidFileMetadataError` naming `ids[3].externalId`), then sent in batches of at most 1000 items (the API's limit
 * per request), a bounded number of batches at a time, the answers kept in the order of the input.
 *
 * @internal
 */
import { Effect } from "effect"
import { InvalidFileMetadataError } from "../CdfError.js"

/** The most items the Files API takes in one `byids`, `update` or `delete` request. @internal */
export const maxItemsPerRequest = 1000

/**
 * How many batches run at a time: reads 4 and writes 2, the Python SDK's defaults for files
 * (`FileConcurrencyConfig`: read=4, write=2, delete=2), which stay under CDF's concurrency throttling.
 *
 * @internal
 */
export const batchConcurrency = { read: 4, write: 2 } as const

/** `items` split into consecutive slices of at most `size` items. @internal */
export const slices = <A>(items: ReadonlyArray<A>, size: number = maxItemsPerRequest): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size))
  return out
}

/**
 * Runs `send` on each slice of `items` (at most `concurrency` at a time) and concatenates the answers in the order of
 * the slices. No items: no request.
 *
 * @internal
 */
export const inBatches = <A, B, E, R>(
  items: ReadonlyArray<A>,
  concurrency: number,
  send: (batch: ReadonlyArray<A>) => Effect.Effect<ReadonlyArray<B>, E, R>
): Effect.Effect<Array<B>, E, R> =>
  Effect.map(Effect.forEach(slices(items), send, { concurrency }), (answers) => answers.flat())

const invalid = (option: string, limit: string) =>
  new InvalidFileMetadataError({ option, limit, message: `Invalid option ${option}: must be ${limit}` })

/** The error of one item, its option prefixed with where the item is in the list (`ids[3]`, `ids[3].externalId`). */
const within = (prefix: string) => (error: InvalidFileMetadataError): InvalidFileMetadataError => {
  const option = error.option === "" ? prefix : error.option.startsWith("[") ? prefix + error.option : `${prefix}.${error.option}`
  return invalid(option, error.limit)
}

/**
 * Checks every item of a list given as `name` with `validate` (a validator whose root is `""`); fails with the first
 * item at fault, its option prefixed with `name[index]`. Anything but an array fails as `name`.
 *
 * @internal
 */
export const validateEach = <A>(
  input: unknown,
  name: string,
  validate: (item: unknown) => Effect.Effect<A, InvalidFileMetadataError>
): Effect.Effect<Array<A>, InvalidFileMetadataError> =>
  Array.isArray(input)
    ? Effect.forEach(input, (item: unknown, index) => Effect.mapError(validate(item), within(`${name}[${index}]`)))
    : Effect.fail(invalid(name, "an array"))
