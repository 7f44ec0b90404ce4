/**
 * The schemas of `Emulator`'s faults (the route names, what a fault does, the fault), apart from `Emulator.ts` so that
 * the routes that decode faults (`routes/control.ts`) do not import the module that serves them.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/** @internal */
export const RouteName = Schema.Literal(
  "token",
  "files.create",
  "files.uploadlink",
  "files.byids",
  "files.get",
  "files.delete",
  "files.initmultipartupload",
  "files.multiuploadlink",
  "files.completemultipartupload",
  "files.list",
  "files.search",
  "files.aggregate",
  "files.update",
  "files.downloadlink",
  "storage.put",
  "storage.get"
)

/** @internal */
export const FaultAction = Schema.Union(
  Schema.TaggedStruct("Status", {
    status: Schema.Int.pipe(Schema.between(100, 599)),
    retryAfter: Schema.optionalWith(Schema.String, { exact: true }),
    headers: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { exact: true })
  }),
  Schema.TaggedStruct("Delay", { millis: Schema.NonNegative }),
  Schema.TaggedStruct("Hang", {}),
  Schema.TaggedStruct("ResetAfterBytes", { bytes: Schema.NonNegativeInt }),
  Schema.TaggedStruct("MalformedJson", {}),
  Schema.TaggedStruct("Throttle", { bytesPerSecond: Schema.Positive }),
  Schema.TaggedStruct("CommitThenFail", { mode: Schema.Literal("status", "drop") }),
  Schema.TaggedStruct("CorruptDownload", { offset: Schema.optionalWith(Schema.NonNegativeInt, { exact: true }) })
)

/** @internal */
export const Fault = Schema.Struct({
  route: RouteName,
  attempts: Schema.optionalWith(Schema.Array(Schema.Int.pipe(Schema.positive())), { exact: true }),
  action: FaultAction
})
