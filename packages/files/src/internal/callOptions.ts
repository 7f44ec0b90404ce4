/**
 * The options of an upload call that are not the record's metadata: `onProgress`, `multipart`, `checksum`,
 * `verify`, `resume` (checked further by `resumableUpload.validate`) and a multipart session's `parts`. A JavaScript
 * caller may give anything: each is read once, here, before any request, and a wrong type or a getter that throws is
 * an `InvalidFileMetadataError` naming the option, never a defect. The callers go on with what this module gives,
 * and do not read the caller's object again.
 *
 * @internal
 */
import type { Effect } from "effect"
import { Schema } from "effect"
import type { InvalidFileMetadataError } from "../CdfError.js"
import { validatorOf } from "./metadataValidation.js"
import type { OnProgress } from "./progress.js"
import { limits } from "./transferSettings.js"

const AFunction = Schema.declare((u: unknown): u is OnProgress => typeof u === "function", {
  description: "a function"
})

const Parts = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= limits.maxParts, {
    description: `an integer from 1 to ${limits.maxParts}`
  })
)

const CallOptions = Schema.Struct({
  onProgress: Schema.optional(AFunction),
  multipart: Schema.optional(Schema.Boolean),
  checksum: Schema.optional(Schema.Literal("sha256")),
  verify: Schema.optional(Schema.Boolean),
  resume: Schema.optional(Schema.Unknown)
})

const SessionOptions = Schema.Struct({
  parts: Parts,
  checksum: Schema.optional(Schema.Literal("sha256"))
})

/**
 * The call's own options of `upload`, `uploadBytes` and `uploadContentBytes`, read and checked.
 *
 * @internal
 */
export interface CallOptions extends Schema.Schema.Type<typeof CallOptions> {}

/**
 * The call's own options of a multipart session: its `parts` (required) and `checksum`, read and checked.
 *
 * @internal
 */
export interface SessionOptions extends Schema.Schema.Type<typeof SessionOptions> {}

/** @internal */
export const validateCallOptions: (input: unknown) => Effect.Effect<CallOptions, InvalidFileMetadataError> =
  validatorOf(CallOptions, "options")

/** @internal */
export const validateSessionOptions: (input: unknown) => Effect.Effect<SessionOptions, InvalidFileMetadataError> =
  validatorOf(SessionOptions, "options")

/**
 * Whether `options` asks for `verify: true`, without failing: an object whose `verify` cannot be read does not, and
 * `validateCallOptions` then says why.
 *
 * @internal
 */
export const asksVerify = (options: unknown): boolean => {
  try {
    return typeof options === "object" && options !== null && Reflect.get(options, "verify") === true
  } catch {
    return false
  }
}
