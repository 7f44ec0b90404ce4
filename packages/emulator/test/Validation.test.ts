import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { json, postJson, postText } from "./utils.js"

const provide = Effect.provide(Emulator.layerInMemory())

const ring = [[0, 0], [1, 0], [1, 1], [0, 0]]
const geo = (geometry: unknown) => ({ name: "g", geoLocation: { type: "Feature", geometry } })

/** [what breaks, body, the field the message must name] */
const invalid: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
  ["name missing", { externalId: "x" }, "name"],
  ["name not a string", { name: 1 }, "name"],
  ["name over 256 characters", { name: "n".repeat(257) }, "name"],
  ["externalId over 255 characters", { name: "a", externalId: "e".repeat(256) }, "externalId"],
  ["directory not absolute", { name: "a", directory: "relative/dir" }, "directory"],
  ["directory over 512 characters", { name: "a", directory: "/" + "d".repeat(512) }, "directory"],
  ["source over 128 characters", { name: "a", source: "s".repeat(129) }, "source"],
  ["mimeType over 256 characters", { name: "a", mimeType: "m".repeat(257) }, "mimeType"],
  ["metadata key over 128 bytes in UTF-8 (65 characters)", { name: "a", metadata: { ["é".repeat(65)]: "v" } }, "metadata"],
  ["metadata value over 10240 bytes", { name: "a", metadata: { k: "ø".repeat(5121) } }, "metadata"],
  [
    "metadata over 256 pairs",
    { name: "a", metadata: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, "v"])) },
    "metadata"
  ],
  [
    "metadata total over 10240 bytes",
    { name: "a", metadata: { a: "x".repeat(6000), b: "y".repeat(6000) } },
    "metadata"
  ],
  ["metadata value not a string", { name: "a", metadata: { k: 1 } }, "metadata"],
  ["assetIds empty", { name: "a", assetIds: [] }, "assetIds"],
  ["assetIds over 1000", { name: "a", assetIds: Array.from({ length: 1001 }, (_, i) => i + 1) }, "assetIds"],
  ["assetId 0", { name: "a", assetIds: [0] }, "assetIds"],
  ["assetId above 2^53-1", { name: "a", assetIds: [2 ** 53] }, "assetIds"],
  ["dataSetId not an integer", { name: "a", dataSetId: 1.5 }, "dataSetId"],
  ["sourceCreatedTime negative", { name: "a", sourceCreatedTime: -1 }, "sourceCreatedTime"],
  ["sourceModifiedTime a string", { name: "a", sourceModifiedTime: "2024-01-01" }, "sourceModifiedTime"],
  [
    "securityCategories over 100",
    { name: "a", securityCategories: Array.from({ length: 101 }, (_, i) => i + 1) },
    "securityCategories"
  ],
  [
    "labels over 10",
    { name: "a", labels: Array.from({ length: 11 }, (_, i) => ({ externalId: `l${i}` })) },
    "labels"
  ],
  ["labels not unique", { name: "a", labels: [{ externalId: "l" }, { externalId: "l" }] }, "labels"],
  ["label with an unknown key", { name: "a", labels: [{ externalId: "l", x: 1 }] }, "labels"],
  ["geoLocation type not Feature", { name: "a", geoLocation: { type: "Point", geometry: { type: "Point", coordinates: [1, 2] } } }, "geoLocation"],
  ["point with 3 numbers", geo({ type: "Point", coordinates: [1, 2, 3] }), "geoLocation"],
  ["line string with 1 position", geo({ type: "LineString", coordinates: [[1, 2]] }), "geoLocation"],
  ["polygon with no ring", geo({ type: "Polygon", coordinates: [] }), "geoLocation"],
  ["polygon ring of 3 positions", geo({ type: "Polygon", coordinates: [[[0, 0], [1, 0], [0, 0]]] }), "geoLocation"],
  ["polygon ring not closed", geo({ type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] }), "geoLocation"],
  ["unknown geometry type", geo({ type: "Circle", coordinates: [1, 2] }), "geoLocation"],
  ["an unknown field (our stricter choice)", { name: "a", size: 12 }, "size"],
  ["uploaded sent in the body (unknown to the request schema)", { name: "a", uploaded: true }, "uploaded"]
]

describe("strict validation of POST files", () => {
  for (const [what, body, field] of invalid) {
    it.effect(`400 naming ${field}: ${what}`, () =>
      Effect.gen(function*() {
        const response = yield* postJson("files", body)
        expect(response.status).toBe(400)
        expect(response.headers["x-request-id"]).toBeTypeOf("string")
        const { error } = yield* json(response)
        const { code, message } = error as { code: number; message: string }
        expect(code).toBe(400)
        expect(message).toContain(field)
        const emulator = yield* Emulator.Emulator
        expect(yield* emulator.files).toEqual([])
      }).pipe(provide))
  }

  it.effect("every field at its limit is accepted (byte limits in UTF-8 bytes, polygon with one closed ring)", () =>
    Effect.gen(function*() {
      const body = {
        externalId: "e".repeat(255),
        name: "n".repeat(256),
        directory: "/" + "d".repeat(511),
        source: "s".repeat(128),
        mimeType: "m".repeat(256),
        metadata: { ["é".repeat(64)]: "ø".repeat(5000) },
        assetIds: Array.from({ length: 1000 }, (_, i) => i + 1),
        dataSetId: 2 ** 53 - 1,
        labels: Array.from({ length: 10 }, (_, i) => ({ externalId: `l${i}` })),
        geoLocation: { type: "Feature", geometry: { type: "Polygon", coordinates: [ring] }, properties: { a: { b: 1 } } },
        sourceCreatedTime: 0,
        sourceModifiedTime: 1_700_000_000_000,
        securityCategories: Array.from({ length: 100 }, (_, i) => i + 1)
      }
      const response = yield* postJson("files", body)
      expect(response.status).toBe(201)
      const record = yield* json(response)
      const { uploadUrl: _, id: __, createdTime: ___, lastUpdatedTime: ____, uploaded, ...fields } = record
      expect(uploaded).toBe(false)
      expect(fields).toEqual(body)
    }).pipe(provide))

  it.effect("every geometry type is accepted", () =>
    Effect.gen(function*() {
      const geometries = [
        { type: "Point", coordinates: [1, 2] },
        { type: "LineString", coordinates: [[1, 2], [3, 4]] },
        { type: "Polygon", coordinates: [ring, ring] },
        { type: "MultiPoint", coordinates: [[1, 2]] },
        { type: "MultiLineString", coordinates: [[[1, 2], [3, 4]]] },
        { type: "MultiPolygon", coordinates: [[ring]] }
      ]
      for (const geometry of geometries) {
        expect((yield* postJson("files", geo(geometry))).status).toBe(201)
      }
    }).pipe(provide))

  it.effect("a body that is not JSON is a 400", () =>
    Effect.gen(function*() {
      const response = yield* postText("files", "{not json")
      expect(response.status).toBe(400)
    }).pipe(provide))

  it.effect("overwrite must be a boolean", () =>
    Effect.gen(function*() {
      const response = yield* postJson("files?overwrite=yes", { name: "a" })
      expect(response.status).toBe(400)
      expect(JSON.stringify(yield* json(response))).toContain("overwrite")
    }).pipe(provide))
})

describe("strict validation of the other bodies", () => {
  it.effect("uploadlink needs exactly one externalId or instanceId", () =>
    Effect.gen(function*() {
      expect((yield* postJson("files/uploadlink", { items: [] })).status).toBe(400)
      expect((yield* postJson("files/uploadlink", { items: [{ externalId: "a" }, { externalId: "b" }] })).status)
        .toBe(400)
      expect((yield* postJson("files/uploadlink", { items: [{ id: 1 }] })).status).toBe(400)
    }).pipe(provide))

  it.effect("byids and delete need 1..1000 identifiers", () =>
    Effect.gen(function*() {
      expect((yield* postJson("files/byids", { items: [] })).status).toBe(400)
      expect((yield* postJson("files/delete", { items: [] })).status).toBe(400)
      const many = { items: Array.from({ length: 1001 }, (_, i) => ({ id: i + 1 })), ignoreUnknownIds: true }
      expect((yield* postJson("files/byids", many)).status).toBe(400)
      expect((yield* postJson("files/delete", { items: [{ instanceId: { space: "s", externalId: "x" } }] })).status)
        .toBe(400)
    }).pipe(provide))
})

describe("what is stored is what was sent", () => {
  it.effect("a metadata key named __proto__ is kept; an empty label externalId is allowed (no minLength in the spec)", () =>
    Effect.gen(function*() {
      const response = yield* postText(
        "files",
        "{\"name\":\"p\",\"metadata\":{\"__proto__\":\"x\",\"k\":\"v\"},\"labels\":[{\"externalId\":\"\"}]}"
      )
      expect(response.status).toBe(201)
      const text = yield* response.text
      expect(text).toContain("\"metadata\":{\"__proto__\":\"x\",\"k\":\"v\"}")
      expect(text).toContain("\"labels\":[{\"externalId\":\"\"}]")
    }).pipe(provide))
})
