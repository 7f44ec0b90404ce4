/**
 * Property tests of the upload options codec: every valid option set round-trips (validate -> toWireBody ->
 * decode with the wire schema), every invalid one fails with InvalidFileMetadataError naming the right option, and
 * no input at all produces a defect.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Cause, Effect, Exit, FastCheck as fc, Schema } from "effect"
import { CdfError, FileMetadata } from "@effect-cdf/files"
import { codePoints, utf8Bytes } from "../src/internal/metadata.js"

const MAX_ID = Number.MAX_SAFE_INTEGER
const encoder = new TextEncoder()

// ---------------------------------------------------------------------------------------------------------------
// valid inputs
// ---------------------------------------------------------------------------------------------------------------

/** Strings of at most `max` code points: mostly short, sometimes exactly at the limit. */
const text = (max: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.fullUnicodeString({ maxLength: Math.min(max, 24) }) },
    { weight: 1, arbitrary: fc.fullUnicodeString({ minLength: max, maxLength: max }) },
    { weight: 1, arbitrary: fc.constantFrom("a".repeat(max), "😀".repeat(max), "ø".repeat(max)) }
  )

const id = fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(1, MAX_ID), fc.maxSafeNat().map((n) => n || 1))

const totalBytes = (m: Record<string, string>) =>
  Object.entries(m).reduce((n, [k, v]) => n + utf8Bytes(k) + utf8Bytes(v), 0)

const metadata = fc.oneof(
  fc.dictionary(fc.fullUnicodeString({ maxLength: 32 }), fc.fullUnicodeString({ maxLength: 200 }), { maxKeys: 20 }),
  // at the byte limits: a 128-byte key and the rest of the 10240 bytes in its value
  fc.constantFrom({ ["😀".repeat(32)]: "ø".repeat(5056) }, { "": "x".repeat(10240) })
).filter((m) => totalBytes(m) <= 10240)

const labels = fc.uniqueArray(text(255), { maxLength: 10 }).chain((ids) =>
  fc.tuple(...ids.map((externalId) => fc.constantFrom<string | { externalId: string }>(externalId, { externalId })))
)

const coordinate = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })
const position = fc.tuple(coordinate, coordinate)
const line = fc.array(position, { minLength: 2, maxLength: 5 })
const ring = fc.array(position, { minLength: 3, maxLength: 5 }).map((ps) => [...ps, ps[0]])
const polygon = fc.array(ring, { minLength: 1, maxLength: 3 })
const geometry = fc.oneof(
  position.map((coordinates) => ({ type: "Point" as const, coordinates })),
  line.map((coordinates) => ({ type: "LineString" as const, coordinates })),
  polygon.map((coordinates) => ({ type: "Polygon" as const, coordinates })),
  fc.array(position, { maxLength: 4 }).map((coordinates) => ({ type: "MultiPoint" as const, coordinates })),
  fc.array(line, { maxLength: 3 }).map((coordinates) => ({ type: "MultiLineString" as const, coordinates })),
  fc.array(polygon, { maxLength: 3 }).map((coordinates) => ({ type: "MultiPolygon" as const, coordinates }))
)
const geoLocation = fc.record(
  {
    type: fc.constant("Feature" as const),
    geometry,
    properties: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })
  },
  { requiredKeys: ["type", "geometry"] }
)

const time = fc.oneof(
  fc.maxSafeNat(),
  fc.constant(0),
  fc.date({ min: new Date(0), noInvalidDate: true })
)

/** An optional option: absent, `undefined`, or a value. */
const maybe = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: undefined, freq: 4 })

const validInput = fc.record(
  {
    name: text(256),
    externalId: maybe(text(255)),
    directory: maybe(text(511).map((s) => "/" + s)),
    source: maybe(text(128)),
    mimeType: maybe(text(256)),
    metadata: maybe(metadata),
    assetIds: maybe(fc.array(id, { minLength: 1, maxLength: 20 })),
    dataSetId: maybe(id),
    labels: maybe(labels),
    geoLocation: maybe(geoLocation),
    sourceCreatedTime: maybe(time),
    sourceModifiedTime: maybe(time),
    securityCategories: maybe(fc.array(id, { maxLength: 20 })),
    overwrite: maybe(fc.boolean())
  },
  { requiredKeys: ["name"] }
)

type Input = typeof validInput extends fc.Arbitrary<infer A> ? A : never

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

  interface Violation {
    readonly patch: Record<string, unknown>
    readonly option: string
  }

  const over = (max: number) => fc.fullUnicodeString({ minLength: max + 1, maxLength: max + 8 })
  const badId = fc.oneof(
    fc.integer({ max: 0 }),
    fc.double({ noInteger: true }),
    fc.constantFrom(MAX_ID + 1, 2 ** 60, NaN, Infinity, -Infinity, "1", null, true, 1n)
  )
  const badTime = fc.oneof(
    fc.integer({ max: -1 }),
    fc.double({ noInteger: true, min: 0.0001, max: 1e12 }),
    fc.constantFrom(NaN, Infinity, MAX_ID + 2, "2024-01-01", null, new Date(NaN), new Date(-1), new Date(-8.64e15))
  )
  const at = <A>(arb: fc.Arbitrary<ReadonlyArray<A>>, bad: fc.Arbitrary<unknown>) =>
    arb.chain((items) =>
      fc.tuple(fc.integer({ min: 0, max: items.length }), bad).map(([i, b]) => {
        const copy: Array<unknown> = [...items]
        copy.splice(i, 0, b)
        return { items: copy, index: i }
      })
    )
  const v = (option: string, patch: Record<string, unknown>): Violation => ({ option, patch })
  const point = (coordinates: unknown) => ({ type: "Feature", geometry: { type: "Point", coordinates } })
  const feature = (geometry: unknown, properties?: unknown) =>
    properties === undefined ? { type: "Feature", geometry } : { type: "Feature", geometry, properties }
  const notJson = fc.constantFrom<unknown>(() => 1, 1n, Symbol("s"), undefined, NaN, Infinity, new Date(0), new Map())

  const violation: fc.Arbitrary<Violation> = fc.oneof(
    over(256).map((name) => v("name", { name })),
    over(255).map((externalId) => v("externalId", { externalId })),
    over(128).map((source) => v("source", { source })),
    over(256).map((mimeType) => v("mimeType", { mimeType })),
    over(511).map((s) => v("directory", { directory: "/" + s })),
    fc.fullUnicodeString({ maxLength: 40 }).filter((s) => !s.startsWith("/")).map((directory) =>
      v("directory", { directory })
    ),
    fc.fullUnicodeString({ minLength: 33, maxLength: 130 }).filter((k) => utf8Bytes(k) > 128).map((k) =>
      v("metadata", { metadata: { a: "b", [k]: "v" } })
    ),
    fc.integer({ min: 10241, max: 10300 }).chain((n) =>
      fc.constantFrom("x".repeat(n), "ø".repeat(Math.ceil(n / 2)), "😀".repeat(Math.ceil(n / 4)))
    ).map((value) => v("metadata.k", { metadata: { a: "b", k: value } })),
    fc.integer({ min: 257, max: 270 }).map((n) =>
      v("metadata", { metadata: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"])) })
    ),
    fc.integer({ min: 2, max: 8 }).map((n) =>
      v("metadata", {
        metadata: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "x".repeat(Math.ceil(10240 / n))]))
      })
    ),
    fc.anything().filter((x) => typeof x !== "string").map((x) => v("metadata.k", { metadata: { k: x } })),
    fc.constant(v("assetIds", { assetIds: [] })),
    fc.integer({ min: 1001, max: 1010 }).map((n) =>
      v("assetIds", { assetIds: Array.from({ length: n }, (_, i) => i + 1) })
    ),
    at(fc.array(id, { maxLength: 5 }), badId).map(({ index, items }) =>
      v(`assetIds[${index}]`, { assetIds: items })
    ),
    badId.map((dataSetId) => v("dataSetId", { dataSetId })),
    fc.integer({ min: 101, max: 110 }).map((n) =>
      v("securityCategories", { securityCategories: Array.from({ length: n }, (_, i) => i + 1) })
    ),
    at(fc.array(id, { maxLength: 5 }), badId).map(({ index, items }) =>
      v(`securityCategories[${index}]`, { securityCategories: items })
    ),
    fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 11, maxLength: 14 }).map((labels) =>
      v("labels", { labels })
    ),
    fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 9 }).chain((labels) =>
      fc.tuple(fc.integer({ min: 0, max: labels.length - 1 }), fc.boolean()).map(([i, asObject]) =>
        v(`labels[${labels.length}]`, { labels: [...labels, asObject ? { externalId: labels[i] } : labels[i]] })
      )
    ),
    at(fc.uniqueArray(fc.string({ maxLength: 8 }), { maxLength: 9 }), over(255)).map(({ index, items }) =>
      v(`labels[${index}]`, { labels: items })
    ),
    at(fc.uniqueArray(fc.string({ maxLength: 8 }), { maxLength: 9 }), over(255).map((externalId) => ({ externalId })))
      .map(({ index, items }) => v(`labels[${index}].externalId`, { labels: items })),
    at(
      fc.uniqueArray(fc.string({ maxLength: 8 }), { maxLength: 9 }),
      fc.anything().filter((x) => typeof x !== "string" && (typeof x !== "object" || x === null))
    ).map(({ index, items }) => v(`labels[${index}]`, { labels: items })),
    fc.string().filter((t) => t !== "Feature").map((type) =>
      v("geoLocation.type", { geoLocation: { type, geometry: { type: "Point", coordinates: [1, 2] } } })
    ),
    fc.array(coordinate).filter((c) => c.length !== 2).map((c) =>
      v("geoLocation.geometry.coordinates", { geoLocation: point(c) })
    ),
    fc.constantFrom([NaN, 1], [1, Infinity], [-Infinity, 0]).map((c) =>
      v("geoLocation.geometry.coordinates", { geoLocation: point(c) })
    ),
    fc.string().filter((t) => !["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"].includes(t))
      .map((type) => v("geoLocation.geometry.type", { geoLocation: feature({ type, coordinates: [] }) })),
    fc.array(position, { maxLength: 1 }).map((coordinates) =>
      v("geoLocation.geometry.coordinates", { geoLocation: feature({ type: "LineString", coordinates }) })
    ),
    fc.constant(v("geoLocation.geometry.coordinates", { geoLocation: feature({ type: "Polygon", coordinates: [] }) })),
    at(polygon, fc.array(position, { minLength: 4, maxLength: 6 }).filter((r) =>
      r[0][0] !== r[r.length - 1][0] || r[0][1] !== r[r.length - 1][1]
    )).map(({ index, items }) =>
      v(`geoLocation.geometry.coordinates[${index}]`, { geoLocation: feature({ type: "Polygon", coordinates: items }) })
    ),
    at(polygon, fc.array(position, { maxLength: 2 }).map((ps) => ps.length === 0 ? ps : [...ps, ps[0]])).map((
      { index, items }
    ) =>
      v(`geoLocation.geometry.coordinates[${index}]`, { geoLocation: feature({ type: "Polygon", coordinates: items }) })
    ),
    at(fc.array(position, { maxLength: 3 }), fc.array(coordinate).filter((c) => c.length !== 2)).map((
      { index, items }
    ) =>
      v(`geoLocation.geometry.coordinates[${index}]`, {
        geoLocation: feature({ type: "MultiPoint", coordinates: items })
      })
    ),
    at(fc.array(line, { maxLength: 3 }), fc.array(position, { maxLength: 1 })).map(({ index, items }) =>
      v(`geoLocation.geometry.coordinates[${index}]`, {
        geoLocation: feature({ type: "MultiLineString", coordinates: items })
      })
    ),
    at(fc.array(polygon, { maxLength: 3 }), fc.constant([])).map(({ index, items }) =>
      v(`geoLocation.geometry.coordinates[${index}]`, {
        geoLocation: feature({ type: "MultiPolygon", coordinates: items })
      })
    ),
    notJson.map((x) =>
      v("geoLocation.properties.p", { geoLocation: feature({ type: "Point", coordinates: [0, 0] }, { ok: 1, p: x }) })
    ),
    fc.constantFrom<unknown>([], "x", 5, null, new Date(0)).map((properties) =>
      v("geoLocation.properties", { geoLocation: feature({ type: "Point", coordinates: [0, 0] }, properties) })
    ),
    badTime.map((t) => v("sourceCreatedTime", { sourceCreatedTime: t })),
    badTime.map((t) => v("sourceModifiedTime", { sourceModifiedTime: t })),
    fc.anything().filter((x) => typeof x !== "boolean" && x !== undefined).map((overwrite) =>
      v("overwrite", { overwrite })
    )
  )

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

  const junkFor: ReadonlyArray<readonly [string, (x: unknown) => boolean]> = [
    ["name", (x) => typeof x !== "string"],
    ["externalId", (x) => typeof x !== "string" && x !== undefined],
    ["directory", (x) => typeof x !== "string" && x !== undefined],
    ["source", (x) => typeof x !== "string" && x !== undefined],
    ["mimeType", (x) => typeof x !== "string" && x !== undefined],
    ["metadata", (x) => x !== undefined && (typeof x !== "object" || x === null || Array.isArray(x))],
    ["assetIds", (x) => x !== undefined && !Array.isArray(x)],
    ["dataSetId", (x) => typeof x !== "number" && x !== undefined],
    ["labels", (x) => x !== undefined && !Array.isArray(x)],
    ["geoLocation", (x) => x !== undefined && (typeof x !== "object" || x === null || Array.isArray(x))],
    ["sourceCreatedTime", (x) => typeof x !== "number" && !(x instanceof Date) && x !== undefined],
    ["sourceModifiedTime", (x) => typeof x !== "number" && !(x instanceof Date) && x !== undefined],
    ["securityCategories", (x) => x !== undefined && !Array.isArray(x)],
    ["overwrite", (x) => typeof x !== "boolean" && x !== undefined]
  ]

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

  it.prop("MultiPartUploadFileMetadata round-trips, flat or in items", [Arbitrary.make(FileMetadata.MultiPartUploadFileMetadata)], ([meta]) => {
    roundTrip(FileMetadata.MultiPartUploadFileMetadata)(meta)
    const encoded = Schema.encodeSync(FileMetadata.MultiPartUploadFileMetadata)(meta)
    const decoded = Schema.decodeUnknownSync(FileMetadata.InitMultiPartUploadResponse)({ items: [encoded] })
    expect(Schema.encodeSync(FileMetadata.MultiPartUploadFileMetadata)(decoded)).toEqual(encoded)
  }, { fastCheck: { numRuns: 50 } })
})
