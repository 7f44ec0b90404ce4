/**
 * Generators of upload options for the FileMetadata property and fuzz tests: valid option sets (at and under every
 * limit), one violation of each kind with the option it must be reported on, and junk for JavaScript callers.
 */
import { FastCheck as fc } from "effect"
import { utf8Bytes } from "../src/internal/metadataValidation.js"

const MAX_ID = Number.MAX_SAFE_INTEGER

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

export const validInput = fc.record(
  {
    name: text(256),
    externalId: maybe(text(255)),
    directory: maybe(text(511).map((s) => "/" + s)),
    source: maybe(text(128)),
    // a mime type is also the PUT's Content-Type: no control characters
    mimeType: maybe(text(256).map((s) => s.replace(/[^\t\x20-\x7e\x80-\uffff]/g, " "))),
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

export type Input = typeof validInput extends fc.Arbitrary<infer A> ? A : never

export interface Violation {
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

export const violation: fc.Arbitrary<Violation> = fc.oneof(
  over(256).map((name) => v("name", { name })),
  over(255).map((externalId) => v("externalId", { externalId })),
  over(128).map((source) => v("source", { source })),
  over(256).map((mimeType) => v("mimeType", { mimeType })),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom("\r\n", "\n", "\u0000", "\u007f"), fc.string({ maxLength: 20 }))
    .map(([a, control, b]) => v("mimeType", { mimeType: a + control + b })),
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

export const junkFor: ReadonlyArray<readonly [string, (x: unknown) => boolean]> = [
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
