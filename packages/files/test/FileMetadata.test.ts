import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Option, Redacted, Schema } from "effect"
import { CdfError, FileMetadata } from "@effect-cdf/files"
import * as FileWire from "../src/internal/fileWire.js"

const created = {
  uploadUrl: "https://api.example.test/upload/abc?sig=SECRET-SIGNATURE",
  id: 4917,
  name: "hello.txt",
  uploaded: false,
  createdTime: 1_730_204_346_000,
  lastUpdatedTime: 1_730_204_347_000,
  labels: [],
  someFutureField: { nested: true }
}

describe("FileMetadata (response)", () => {
  it.effect("decodes a POST files answer, ignoring unknown fields and keeping the upload URL redacted", () =>
    Effect.gen(function*() {
      const meta = yield* Schema.decodeUnknown(FileWire.UploadFileMetadata)(created)
      expect(meta).toBeInstanceOf(FileMetadata.FileMetadata)
      expect(meta.id).toBe(4917)
      expect(meta.labels).toEqual([])
      expect(meta.externalId).toBeUndefined()
      expect("externalId" in meta).toBe(false)
      expect("someFutureField" in meta).toBe(false)
      expect(Redacted.value(meta.uploadUrl)).toBe(created.uploadUrl)
      expect(String(meta)).not.toContain("SECRET-SIGNATURE")
      expect(JSON.stringify(meta)).not.toContain("SECRET-SIGNATURE")
      expect(meta.createdAt.toISOString()).toBe(new Date(1_730_204_346_000).toISOString())
      expect(meta.lastUpdatedAt.getTime()).toBe(1_730_204_347_000)
      expect(meta.uploadedAt).toBeUndefined()
    }))

  it("decodes every field of the spec's FilesMetadata", () => {
    const full = {
      id: 1,
      externalId: "x",
      instanceId: { space: "sp", externalId: "node1" },
      name: "n",
      directory: "/a/b",
      source: "s",
      mimeType: "text/plain",
      metadata: { k: "v" },
      assetIds: [1, 2],
      dataSetId: 3,
      labels: [{ externalId: "l" }],
      geoLocation: {
        type: "Feature",
        geometry: { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] },
        properties: { a: 1 }
      },
      securityCategories: [5],
      sourceCreatedTime: 10,
      sourceModifiedTime: 20,
      uploaded: true,
      uploadedTime: 30,
      createdTime: 40,
      lastUpdatedTime: 50
    }
    const meta = Schema.decodeUnknownSync(FileMetadata.FileMetadata)(full)
    expect(Schema.encodeSync(FileMetadata.FileMetadata)(meta)).toEqual(full)
    expect(meta.sourceCreatedAt?.getTime()).toBe(10)
    expect(meta.sourceModifiedAt?.getTime()).toBe(20)
    expect(meta.uploadedAt?.getTime()).toBe(30)
  })

  it("rejects an answer without a required field", () => {
    for (const key of ["id", "name", "uploaded", "createdTime", "lastUpdatedTime"] as const) {
      const rest: Record<string, unknown> = { ...created }
      delete rest[key]
      expect(Either.isLeft(Schema.decodeUnknownEither(FileMetadata.FileMetadata)(rest)), key).toBe(true)
    }
  })

  it("accepts the uploadlink and initmultipartupload answers flat or wrapped in items", () => {
    const flat = Schema.decodeUnknownSync(FileWire.UploadLinkResponse)(created)
    const wrapped = Schema.decodeUnknownSync(FileWire.UploadLinkResponse)({ items: [created] })
    expect(flat.id).toBe(4917)
    expect(wrapped.id).toBe(4917)
    const multi = { ...created, uploadId: "up-1", uploadUrls: ["https://s/1?sig=A", "https://s/2?sig=B"] }
    for (const schema of [FileWire.InitMultiPartUploadResponse, FileWire.MultiUploadLinkResponse]) {
      for (const body of [multi, { items: [multi] }]) {
        const decoded = Schema.decodeUnknownSync(schema)(body)
        expect(decoded.uploadId).toBe("up-1")
        expect(decoded.uploadUrls.map(Redacted.value)).toEqual(["https://s/1?sig=A", "https://s/2?sig=B"])
      }
    }
  })

  it("decodes the CDF error envelope, keeping extra keys", () => {
    const body = {
      error: { code: 409, message: "Duplicate external ids", duplicated: [{ externalId: "x" }], isAutoRetryable: false }
    }
    const decoded = Schema.decodeUnknownSync(FileMetadata.ErrorEnvelope)(body)
    expect(decoded.error.code).toBe(409)
    expect(decoded.error.duplicated).toEqual([{ externalId: "x" }])
    expect(decoded.error["isAutoRetryable"]).toBe(false)
    expect(Either.isLeft(Schema.decodeUnknownEither(FileMetadata.ErrorEnvelope)({ error: "nope" }))).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// request side: every limit at its boundary
// ---------------------------------------------------------------------------------------------------------------

const check = (input: unknown) => Effect.runSyncExit(FileMetadata.validateUploadOptions(input))

const expectValid = (input: unknown): FileMetadata.ValidUploadOptions => {
  const exit = check(input)
  if (Exit.isFailure(exit)) throw new Error(`expected valid, got ${Cause.pretty(exit.cause)}`)
  return exit.value
}

const expectInvalid = (input: unknown, option: string, limit?: string | RegExp) => {
  const exit = check(input)
  if (Exit.isSuccess(exit)) throw new Error(`expected ${option} to be rejected`)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  const error = failure.value
  expect(error).toBeInstanceOf(CdfError.InvalidFileMetadataError)
  expect(error._tag).toBe("InvalidFileMetadataError")
  expect(error.option).toBe(option)
  if (limit !== undefined) expect(error.limit).toMatch(limit)
  expect(error.message).toContain(option)
  return error
}

const base = { name: "f.txt" }
const chars = (n: number, c = "a") => c.repeat(n)

describe("UploadOptions limits", () => {
  it("string lengths: at the limit passes, one over fails, counted in code points", () => {
    const fields = [
      ["name", 256],
      ["externalId", 255],
      ["source", 128],
      ["mimeType", 256]
    ] as const
    for (const [field, max] of fields) {
      expectValid({ ...base, [field]: chars(max) })
      expectValid({ ...base, [field]: chars(max, "😀") }) // 2 UTF-16 units, 1 code point each
      expectInvalid({ ...base, [field]: chars(max + 1) }, field, `at most ${max} characters`)
      expectInvalid({ ...base, [field]: chars(max + 1, "😀") }, field)
      expectInvalid({ ...base, [field]: 42 }, field, "a string")
    }
    expectInvalid({}, "name", /required/)
  })

  it("directory: absolute unix-style, at most 512 characters", () => {
    expectValid({ ...base, directory: "/" })
    expectValid({ ...base, directory: "/" + chars(511) })
    expectInvalid({ ...base, directory: "/" + chars(512) }, "directory", "at most 512 characters")
    for (const relative of ["a/b", "", "C:\\files", "./x"]) {
      expectInvalid({ ...base, directory: relative }, "directory", /absolute/)
    }
  })

  it("metadata: keys <= 128 UTF-8 bytes", () => {
    expectValid({ ...base, metadata: { [chars(128)]: "v" } })
    expectValid({ ...base, metadata: { [chars(64, "ø")]: "v" } }) // ø is 2 bytes
    expectValid({ ...base, metadata: { [chars(32, "😀")]: "v" } }) // an emoji is 4 bytes
    expectInvalid({ ...base, metadata: { [chars(129)]: "v" } }, "metadata", "at most 128 UTF-8 bytes per key")
    expectInvalid({ ...base, metadata: { [chars(64, "ø") + "a"]: "v" } }, "metadata", /128 UTF-8 bytes/)
    expectInvalid({ ...base, metadata: { [chars(32, "😀") + "a"]: "v" } }, "metadata", /128 UTF-8 bytes/)
    // 65 "ø" is 65 characters but 130 bytes
    expectInvalid({ ...base, metadata: { [chars(65, "ø")]: "v" } }, "metadata")
  })

  it("metadata: values <= 10240 UTF-8 bytes", () => {
    expectValid({ ...base, metadata: { "": chars(5120, "ø") } })
    expectInvalid({ ...base, metadata: { "": chars(5120, "ø") + "a" } }, "metadata[\"\"]", "at most 10240 UTF-8 bytes")
    expectInvalid({ ...base, metadata: { k: chars(10241) } }, "metadata.k", "at most 10240 UTF-8 bytes")
    expectInvalid({ ...base, metadata: { "my key": chars(2561, "😀") } }, "metadata[\"my key\"]")
    expectInvalid({ ...base, metadata: { k: 5 } }, "metadata.k", "a string")
  })

  it("metadata: at most 256 pairs", () => {
    const pairs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, ""]))
    expectValid({ ...base, metadata: pairs(256) })
    expectInvalid({ ...base, metadata: pairs(257) }, "metadata", "at most 256 key-value pairs")
  })

  it("metadata: at most 10240 UTF-8 bytes in keys and values together", () => {
    // "a" + 5119 bytes twice = 10240 bytes
    expectValid({ ...base, metadata: { a: chars(5119), b: chars(5119) } })
    expectInvalid(
      { ...base, metadata: { a: chars(5119), b: chars(5120) } },
      "metadata",
      "at most 10240 UTF-8 bytes in all keys and values together"
    )
    // keys count: 128-byte keys push a 10240-byte set of values over
    expectInvalid({ ...base, metadata: { [chars(128)]: chars(10200) } }, "metadata", /all keys and values/)
    expectValid({ ...base, metadata: { k: chars(2559, "ø"), l: chars(2560, "ø") } }) // 1 + 5118 + 1 + 5120 bytes
    expectInvalid({ ...base, metadata: { k: chars(2560, "ø"), l: chars(2560, "ø") } }, "metadata", /all keys/)
  })

  it("assetIds: 1 to 1000 ids, each 1 to 2^53-1", () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1)
    expectValid({ ...base, assetIds: [1] })
    expectValid({ ...base, assetIds: ids(1000) })
    expectValid({ ...base, assetIds: [Number.MAX_SAFE_INTEGER] })
    expectInvalid({ ...base, assetIds: [] }, "assetIds", "from 1 to 1000 asset ids")
    expectInvalid({ ...base, assetIds: ids(1001) }, "assetIds", "from 1 to 1000 asset ids")
    expectInvalid({ ...base, assetIds: [1, 0] }, "assetIds[1]", "an integer from 1 to 9007199254740991")
    expectInvalid({ ...base, assetIds: [1, 2, Number.MAX_SAFE_INTEGER + 1] }, "assetIds[2]")
    expectInvalid({ ...base, assetIds: [1.5] }, "assetIds[0]")
    expectInvalid({ ...base, assetIds: ["1"] }, "assetIds[0]", "a number")
    expectInvalid({ ...base, assetIds: 1 }, "assetIds")
  })

  it("dataSetId: 1 to 2^53-1", () => {
    expectValid({ ...base, dataSetId: 1 })
    expectValid({ ...base, dataSetId: Number.MAX_SAFE_INTEGER })
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity]) {
      expectInvalid({ ...base, dataSetId: bad }, "dataSetId", "an integer from 1 to 9007199254740991")
    }
  })

  it("securityCategories: at most 100, each 1 to 2^53-1", () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1)
    expectValid({ ...base, securityCategories: [] })
    expectValid({ ...base, securityCategories: ids(100) })
    expectInvalid({ ...base, securityCategories: ids(101) }, "securityCategories", "at most 100 security categories")
    expectInvalid({ ...base, securityCategories: [3, 0] }, "securityCategories[1]")
  })

  it("times: integer epoch milliseconds >= 0, or a Date", () => {
    for (const field of ["sourceCreatedTime", "sourceModifiedTime"] as const) {
      expect(expectValid({ ...base, [field]: 0 })[field]).toBe(0)
      expect(expectValid({ ...base, [field]: 1_730_204_346_000 })[field]).toBe(1_730_204_346_000)
      expect(expectValid({ ...base, [field]: new Date(0) })[field]).toBe(0)
      expect(expectValid({ ...base, [field]: new Date("2024-10-29T12:19:06.000Z") })[field]).toBe(1_730_204_346_000)
      expectInvalid({ ...base, [field]: -1 }, field, /integer.*at least 0/)
      expectInvalid({ ...base, [field]: 1.5 }, field, /integer/)
      expectInvalid({ ...base, [field]: new Date(-1) }, field, /not before 1970/)
      expectInvalid({ ...base, [field]: new Date(NaN) }, field, /valid Date/)
      expectInvalid({ ...base, [field]: "2024-01-01" }, field, /or a Date/)
    }
  })

  it("labels: at most 10 unique, each externalId <= 255, as strings or objects", () => {
    const labels = (n: number) => Array.from({ length: n }, (_, i) => `l${i}`)
    const valid = expectValid({ ...base, labels: ["a", { externalId: "b" }] })
    expect(valid.labels).toEqual([{ externalId: "a" }, { externalId: "b" }])
    expectValid({ ...base, labels: [] })
    expectValid({ ...base, labels: labels(10) })
    expectValid({ ...base, labels: [chars(255), { externalId: chars(254) + "b" }] })
    expectInvalid({ ...base, labels: labels(11) }, "labels", "at most 10 labels")
    expectInvalid({ ...base, labels: ["a", "b", "c", { externalId: "a" }] }, "labels[3]", /unique/)
    expectInvalid({ ...base, labels: ["a", "b", "c", { externalId: chars(256) }] }, "labels[3].externalId", /255/)
    expectInvalid({ ...base, labels: ["a", chars(256)] }, "labels[1]", /255/)
    expectInvalid({ ...base, labels: ["a", { externalId: 5 }] }, "labels[1].externalId", "a string")
    expectInvalid({ ...base, labels: ["a", 5] }, "labels[1]", /a string, or \{ externalId/)
    expectInvalid({ ...base, labels: "a" }, "labels")
  })

  const geo = (geometry: unknown, extra: object = {}) => ({ ...base, geoLocation: { type: "Feature", geometry, ...extra } })
  const ring = [[0, 0], [1, 0], [1, 1], [0, 0]]

  it("geoLocation: a Feature with one of the six geometries, correctly shaped", () => {
    expectValid(geo({ type: "Point", coordinates: [4.3, 60.2] }))
    expectValid(geo({ type: "LineString", coordinates: [[0, 0], [1, 1]] }))
    expectValid(geo({ type: "Polygon", coordinates: [ring] })) // one ring: the spec's text, not its minItems 2
    expectValid(geo({ type: "Polygon", coordinates: [ring, ring] }))
    expectValid(geo({ type: "MultiPoint", coordinates: [[1, 2], [3, 4]] }))
    expectValid(geo({ type: "MultiLineString", coordinates: [[[0, 0], [1, 1]]] }))
    expectValid(geo({ type: "MultiPolygon", coordinates: [[ring], [ring, ring]] }))
    expectValid(geo({ type: "Point", coordinates: [1, 2] }, { properties: { a: [1, { b: null }], c: "d" } }))

    expectInvalid({ ...base, geoLocation: { type: "FeatureCollection", geometry: { type: "Point", coordinates: [1, 2] } } }, "geoLocation.type", "\"Feature\"")
    expectInvalid({ ...base, geoLocation: { type: "Feature" } }, "geoLocation.geometry", /required/)
    expectInvalid(geo({ type: "Circle", coordinates: [1, 2] }), "geoLocation.geometry.type", /Point/)
    expectInvalid(geo({ type: "Point", coordinates: [1] }), "geoLocation.geometry.coordinates", "a position: exactly 2 finite numbers")
    expectInvalid(geo({ type: "Point", coordinates: [1, 2, 3] }), "geoLocation.geometry.coordinates")
    expectInvalid(geo({ type: "Point", coordinates: [1, Infinity] }), "geoLocation.geometry.coordinates")
    expectInvalid(geo({ type: "Point", coordinates: [1, "2"] }), "geoLocation.geometry.coordinates[1]", "a number")
    expectInvalid(geo({ type: "LineString", coordinates: [[0, 0]] }), "geoLocation.geometry.coordinates", /at least 2 positions/)
    expectInvalid(geo({ type: "LineString", coordinates: [[0, 0], [1]] }), "geoLocation.geometry.coordinates[1]")
    expectInvalid(geo({ type: "Polygon", coordinates: [] }), "geoLocation.geometry.coordinates", /at least 1 linear ring/)
    expectInvalid(geo({ type: "Polygon", coordinates: [[[0, 0], [1, 0], [0, 0]]] }), "geoLocation.geometry.coordinates[0]", /at least 4/)
    expectInvalid(geo({ type: "Polygon", coordinates: [ring, [[0, 0], [1, 0], [1, 1], [0, 1]]] }), "geoLocation.geometry.coordinates[1]", /closed/)
    expectInvalid(geo({ type: "MultiPoint", coordinates: [[1, 2], [3]] }), "geoLocation.geometry.coordinates[1]")
    expectInvalid(geo({ type: "MultiLineString", coordinates: [[[0, 0], [1, 1]], [[0, 0]]] }), "geoLocation.geometry.coordinates[1]")
    expectInvalid(geo({ type: "MultiPolygon", coordinates: [[ring], []] }), "geoLocation.geometry.coordinates[1]")
    expectInvalid(geo({ type: "MultiPolygon", coordinates: [[ring], [ring, [[0, 0], [1, 0], [1, 1], [2, 2]]]] }), "geoLocation.geometry.coordinates[1][1]", /closed/)
  })

  it("geoLocation.properties: a free JSON object", () => {
    const point = { type: "Point", coordinates: [1, 2] }
    expectInvalid(geo(point, { properties: [1] }), "geoLocation.properties", /JSON object/)
    expectInvalid(geo(point, { properties: "x" }), "geoLocation.properties", /JSON object/)
    expectInvalid(geo(point, { properties: { a: { b: () => 1 } } }), "geoLocation.properties.a.b", /JSON value/)
    expectInvalid(geo(point, { properties: { a: [1, 2n] } }), "geoLocation.properties.a[1]", /JSON value/)
    expectInvalid(geo(point, { properties: { a: NaN } }), "geoLocation.properties.a", /finite/)
    expectInvalid(geo(point, { properties: { d: new Date(0) } }), "geoLocation.properties.d", /plain/)
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    expectInvalid(geo(point, { properties: cyclic }), "geoLocation.properties.self", /cycles/)
    let deep: unknown = 1
    for (let i = 0; i < 10_000; i++) deep = [deep]
    expectInvalid(geo(point, { properties: { deep } }), "geoLocation.properties.deep" + "[0]".repeat(64), /nested/)
  })

  it("wrong types from JavaScript callers and hostile objects give the typed error, never a defect", () => {
    for (const junk of [null, undefined, 5, "name", true, Symbol("x"), 10n, () => 1, []]) {
      expectInvalid(junk, "options", /object/)
    }
    for (const junk of [new Date(0), new Map([["name", "x"]])]) {
      expectInvalid(junk, "name", /required/)
    }
    expectInvalid({ name: "f", overwrite: "yes" }, "overwrite", "a boolean")
    expectInvalid(
      {
        get name(): string {
          throw new Error("getter")
        }
      },
      "options",
      /can be read/
    )
    const revoked = Proxy.revocable({}, {})
    revoked.revoke()
    expectInvalid(revoked.proxy, "options")
  })

  it("keeps keys such as __proto__ as ordinary keys (metadata, properties, response)", () => {
    const input = JSON.parse(
      "{\"name\":\"x\",\"metadata\":{\"__proto__\":\"v\",\"a\":\"b\"},\"geoLocation\":{\"type\":\"Feature\"," +
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},\"properties\":{\"__proto__\":{\"x\":1}}}}"
    )
    const body = JSON.stringify(FileMetadata.toWireBody(expectValid(input)))
    expect(body).toContain("\"metadata\":{\"__proto__\":\"v\",\"a\":\"b\"}")
    expect(body).toContain("\"properties\":{\"__proto__\":{\"x\":1}}")
    const response = Schema.decodeUnknownSync(FileMetadata.FileMetadata)({ ...created, metadata: input.metadata })
    expect(Object.keys(response.metadata ?? {})).toEqual(["__proto__", "a"])
    expect(() => Schema.decodeUnknownSync(FileMetadata.FileMetadata)({ ...created, metadata: { a: 1 } })).toThrow()
  })

  it("undefined options count as unset; unknown keys are ignored", () => {
    const valid = expectValid({ name: "f", externalId: undefined, labels: undefined, onProgress: () => 1 })
    expect(valid).toEqual({ name: "f" })
    expect(FileMetadata.toWireBody(valid)).toEqual({ name: "f" })
  })
})

describe("UploadOptions type", () => {
  it("takes what a TypeScript user writes (strings or objects as labels, Dates, undefined)", () => {
    const options: FileMetadata.UploadOptions = {
      name: "plan.pdf",
      externalId: undefined,
      labels: ["a", { externalId: "b" }],
      sourceCreatedTime: new Date(1000),
      sourceModifiedTime: 2000,
      metadata: { site: "oslo" },
      geoLocation: { type: "Feature", geometry: { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } },
      overwrite: true
    }
    const valid: FileMetadata.ValidUploadOptions = expectValid(options)
    expect(valid).toEqual({
      name: "plan.pdf",
      labels: [{ externalId: "a" }, { externalId: "b" }],
      sourceCreatedTime: 1000,
      sourceModifiedTime: 2000,
      metadata: { site: "oslo" },
      geoLocation: { type: "Feature", geometry: { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } },
      overwrite: true
    })
    const identifier: FileMetadata.FileIdentifier = Effect.runSync(FileMetadata.validateFileIdentifier({ id: 1 }))
    expect(Schema.encodeSync(FileMetadata.FileIdentifier)(identifier)).toEqual({ id: 1 })
  })
})

describe("toWireBody", () => {
  it("writes the body the Python SDK writes: its key order, labels as objects, times in ms, no overwrite", () => {
    const valid = expectValid({
      overwrite: true,
      securityCategories: [7],
      sourceModifiedTime: new Date(2000),
      sourceCreatedTime: 1000,
      geoLocation: { properties: { p: 1 }, geometry: { coordinates: [1, 2], type: "Point" }, type: "Feature" },
      labels: ["a", { externalId: "b" }],
      dataSetId: 9,
      assetIds: [1, 2],
      metadata: { k: "v" },
      mimeType: "text/plain",
      source: "src",
      directory: "/d",
      name: "bla",
      externalId: "x1"
    })
    expect(valid.overwrite).toBe(true)
    expect(JSON.stringify(FileMetadata.toWireBody(valid))).toBe(
      "{\"externalId\":\"x1\",\"name\":\"bla\",\"directory\":\"/d\",\"source\":\"src\",\"mimeType\":\"text/plain\"," +
        "\"metadata\":{\"k\":\"v\"},\"assetIds\":[1,2],\"dataSetId\":9,\"labels\":[{\"externalId\":\"a\"},{\"externalId\":\"b\"}]," +
        "\"geoLocation\":{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},\"properties\":{\"p\":1}}," +
        "\"sourceCreatedTime\":1000,\"sourceModifiedTime\":2000,\"securityCategories\":[7]}"
    )
  })

  it("a minimal call sends only the name", () => {
    expect(JSON.stringify(FileMetadata.toWireBody(expectValid({ name: "bla" })))).toBe("{\"name\":\"bla\"}")
  })
})

describe("identifiers", () => {
  const file = (input: unknown) => Effect.runSyncExit(Effect.flip(FileMetadata.validateFileIdentifier(input)))
  const content = (input: unknown) => Effect.runSyncExit(Effect.flip(FileMetadata.validateContentIdentifier(input)))
  const optionOf = (exit: Exit.Exit<CdfError.InvalidFileMetadataError, unknown>) =>
    Exit.isSuccess(exit) ? exit.value.option : `not a typed failure: ${Cause.pretty(exit.cause)}`

  it("accepts exactly one of id, externalId, instanceId", () => {
    expect(Effect.runSync(FileMetadata.validateFileIdentifier({ id: 5 }))).toEqual({ id: 5 })
    expect(Effect.runSync(FileMetadata.validateFileIdentifier({ externalId: "x" }))).toEqual({ externalId: "x" })
    const instanceId = { space: "my_space-1", externalId: "file_1" }
    expect(Effect.runSync(FileMetadata.validateFileIdentifier({ instanceId }))).toEqual({ instanceId })
    expect(Effect.runSync(FileMetadata.validateContentIdentifier({ instanceId }))).toEqual({ instanceId })
    expect(Effect.runSync(FileMetadata.validateContentIdentifier({ externalId: chars(255) }))).toEqual({
      externalId: chars(255)
    })
  })

  it("rejects none, two, unknown keys and broken limits, naming the field", () => {
    expect(optionOf(file({}))).toBe("file")
    expect(optionOf(file({ id: 1, externalId: "x" }))).toBe("file")
    expect(optionOf(file(null))).toBe("file")
    expect(optionOf(file({ id: 0 }))).toBe("id")
    expect(optionOf(file({ externalId: chars(256) }))).toBe("externalId")
    expect(optionOf(file({ idd: 1 }))).toBe("idd")
    expect(optionOf(content({ id: 1 }))).toBe("id")
    expect(optionOf(content({ instanceId: { space: "1space", externalId: "x" } }))).toBe("instanceId.space")
    expect(optionOf(content({ instanceId: { space: chars(44), externalId: "x" } }))).toBe("instanceId.space")
    expect(optionOf(content({ instanceId: { space: chars(43), externalId: chars(256) } }))).toBe(
      "instanceId.externalId"
    )
    expect(optionOf(content({ instanceId: { space: "s" } }))).toBe("instanceId.externalId")
  })
})
