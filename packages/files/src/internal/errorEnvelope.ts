/**
 * The body of every CDF error answer, decoded by the request code to build a `CdfApiError` (or an `AuthError`'s
 * `code`).
 *
 * @internal
 */
import { Schema } from "effect"

/**
 * The body of every CDF error answer: `{ "error": { code, message, missing?, duplicated?, ... } }`. Keys beyond
 * the spec's (`isAutoRetryable`, `notices`, ...) are kept.
 *
 * @internal
 */
export const ErrorEnvelope = Schema.Struct({
  error: Schema.Struct(
    {
      code: Schema.Number,
      message: Schema.String,
      missing: Schema.optionalWith(Schema.Array(Schema.Unknown), { exact: true }),
      duplicated: Schema.optionalWith(Schema.Array(Schema.Unknown), { exact: true })
    },
    Schema.Record({ key: Schema.String, value: Schema.Unknown })
  )
}).annotations({ identifier: "ErrorEnvelope" })

/** @internal */
export type ErrorEnvelope = typeof ErrorEnvelope.Type
