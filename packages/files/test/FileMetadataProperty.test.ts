/**
 * Property tests of the upload options codec: every valid option set round-trips (validate -> toWireBody ->
 * decode with the wire schema), every invalid one fails with InvalidFileMetadataError naming the right option, and
 * no input at all produces a defect.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Cause, Effect, Exit, FastCheck as fc, Schema } from "effect"
import { CdfError, FileMetadata } from "@effect-cdf/files"
import { codePoints, utf8Bytes } from "../src/internal/metadataValidation.js"
import { type Input, junkFor, validInput, violation } from "./FileMetadataArbitraries.js"
import * as FileWire from "../src/internal/fileWire.js"

const encoder = new TextEncoder()

const ms = (t: number | Date) => typeof t === "number" ? t : t.getTime()

/** The body the Python SDK would send for these options, built independently of the library. */
const model = (o: Input): Record<string, unknown> => {
  const body: Record<string, unknown> = {}
  const put = (key: string, value: unknown) => {
    if (value !== undefined) body[key] = value
  }
  put("externalId", o.externalId)
  put("name", o.name)
  put("directory", o.directory)
  put("source", o.source)
  put("mimeType", o.mimeType)
  put("metadata", o.metadata)
  put("assetIds", o.assetIds)
  put("dataSetId", o.dataSetId)
  put("labels", o.labels?.map((l) => ({ externalId: typeof l === "string" ? l : l.externalId })))
  put(
    "geoLocation",
    o.geoLocation === undefined ? undefined : {
      type: o.geoLocation.type,
      geometry: { type: o.geoLocation.geometry.type, coordinates: o.geoLocation.geometry.coordinates },
      ...(o.geoLocation.properties === undefined ? {} : { properties: o.geoLocation.properties })
    }
  )
  put("sourceCreatedTime", o.sourceCreatedTime === undefined ? undefined : ms(o.sourceCreatedTime))
  put("sourceModifiedTime", o.sourceModifiedTime === undefined ? undefined : ms(o.sourceModifiedTime))
  put("securityCategories", o.securityCategories)
  return body
}

const validate = (input: unknown) => Effect.runSyncExit(FileMetadata.validateUploadOptions(input))
const decodeWire = Schema.decodeUnknownSync(FileMetadata.FileMetadataWrite)
const json = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

/** The typed error of a failed exit; throws on success and on anything but a plain typed failure (a defect). */
const typedError = (exit: Exit.Exit<unknown, CdfError.InvalidFileMetadataError>) => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  if (!Cause.isFailType(exit.cause)) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  expect(exit.cause.error).toBeInstanceOf(CdfError.InvalidFileMetadataError)
  return exit.cause.error
}

describe("UploadOptions codec (properties)", () => {
  it.prop("every valid option set round-trips: validate -> toWireBody -> wire schema", [validInput], ([input]) => {
    const exit = validate(input)
    if (Exit.isFailure(exit)) throw new Error(`valid input rejected: ${Cause.pretty(exit.cause)}`)
    const valid = exit.value
    const body = FileMetadata.toWireBody(valid)
    // exactly the Python SDK's body, key order included
    expect(JSON.stringify(body)).toBe(JSON.stringify(model(input)))
    expect("overwrite" in body).toBe(false)
    expect(valid.overwrite).toBe(input.overwrite)
    // the wire schema decodes the body (as sent, and as the server parses it) back to the options
    const { overwrite: _, ...rest } = valid
    expect(decodeWire(body)).toEqual(rest)
    expect(json(decodeWire(json(body)))).toEqual(json(rest))
    // and validating the wire body as options gives the same options again
    const again = validate(json(body))
    expect(Exit.isSuccess(again) && JSON.stringify(FileMetadata.toWireBody(again.value))).toBe(JSON.stringify(body))
  }, { fastCheck: { numRuns: 300 } })

  // -------------------------------------------------------------------------------------------------------------
  // one violation of each kind, injected into a valid option set
  // -------------------------------------------------------------------------------------------------------------

  it.prop("every invalid option set fails with InvalidFileMetadataError naming the option", [validInput, violation], (
    [input, { option, patch }]
  ) => {
    const error = typedError(validate({ ...input, ...patch }))
    expect(error.option).toBe(option)
    expect(error.limit.length).toBeGreaterThan(0)
    expect(error.message).toContain(option)
  }, { fastCheck: { numRuns: 800 } })

  // -------------------------------------------------------------------------------------------------------------
  // junk from JavaScript callers
  // -------------------------------------------------------------------------------------------------------------

  it.prop(
    "a junk value for any option fails with the typed error for that option",
    [validInput, fc.integer({ min: 0, max: junkFor.length - 1 }), fc.anything({ withBoxedValues: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBigInt: true })],
    ([input, which, junk]) => {
      const [option, isJunk] = junkFor[which]
      fc.pre(isJunk(junk))
      const error = typedError(validate({ ...input, [option]: junk }))
      expect(error.option.startsWith(option)).toBe(true)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "any value at all as options: the normalized options or the typed error, never a defect",
    [fc.anything({ withBoxedValues: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBigInt: true, maxDepth: 3 })],
    ([junk]) => {
      const exit = validate(junk)
      if (Exit.isFailure(exit)) typedError(exit)
      else expect(typeof exit.value.name).toBe("string")
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "junk inside a valid object: never a defect",
    [validInput, fc.dictionary(fc.constantFrom("name", "metadata", "labels", "geoLocation", "assetIds", "sourceCreatedTime"), fc.anything({ maxDepth: 2, withBigInt: true, withDate: true, withNullPrototype: true }))],
    ([input, patch]) => {
      const exit = validate({ ...input, ...patch })
      if (Exit.isFailure(exit)) typedError(exit)
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("UTF-8 and code point counting (properties)", () => {
  it("counts known characters", () => {
    expect(utf8Bytes("a")).toBe(1)
    expect(utf8Bytes("ø")).toBe(2)
    expect(utf8Bytes("€")).toBe(3)
    expect(utf8Bytes("😀")).toBe(4)
    expect(utf8Bytes("\ud800")).toBe(3) // a lone surrogate is sent as U+FFFD
    expect(codePoints("😀😀")).toBe(2)
    expect("😀😀".length).toBe(4)
  })

  it.prop("utf8Bytes agrees with TextEncoder on any UTF-16 string", [
    fc.oneof(
      fc.fullUnicodeString(),
      fc.string({ unit: "binary" }),
      fc.array(fc.integer({ min: 0, max: 0xffff })).map((units) => String.fromCharCode(...units))
    )
  ], ([s]) => {
    expect(utf8Bytes(s)).toBe(encoder.encode(s).length)
    expect(codePoints(s)).toBe([...s].length)
  }, { fastCheck: { numRuns: 1000 } })
})

describe("FileMetadata response codec (properties)", () => {
  const roundTrip = <A, I>(schema: Schema.Schema<A, I>) => (a: A) => {
    const encoded = Schema.encodeSync(schema)(a)
    expect(Schema.encodeSync(schema)(Schema.decodeUnknownSync(schema)(encoded))).toEqual(encoded)
  }

  it.prop("FileMetadata: decode(encode(x)) encodes to the same wire object", [Arbitrary.make(FileMetadata.FileMetadata)], ([meta]) => {
    roundTrip(FileMetadata.FileMetadata)(meta)
    expect(meta.createdAt.getTime()).toBe(new Date(meta.createdTime).getTime())
  }, { fastCheck: { numRuns: 100 } })

  it.prop("MultiPartUploadFileMetadata round-trips, flat or in items", [Arbitrary.make(FileWire.MultiPartUploadFileMetadata)], ([meta]) => {
    roundTrip(FileWire.MultiPartUploadFileMetadata)(meta)
    const encoded = Schema.encodeSync(FileWire.MultiPartUploadFileMetadata)(meta)
    const decoded = Schema.decodeUnknownSync(FileWire.InitMultiPartUploadResponse)({ items: [encoded] })
    expect(Schema.encodeSync(FileWire.MultiPartUploadFileMetadata)(decoded)).toEqual(encoded)
  }, { fastCheck: { numRuns: 50 } })
})
