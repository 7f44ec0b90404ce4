import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted, Schema } from "effect"
import { FileMetadata } from "@effect-cdf/files"

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
      const meta = yield* Schema.decodeUnknown(FileMetadata.UploadFileMetadata)(created)
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
    const flat = Schema.decodeUnknownSync(FileMetadata.UploadLinkResponse)(created)
    const wrapped = Schema.decodeUnknownSync(FileMetadata.UploadLinkResponse)({ items: [created] })
    expect(flat.id).toBe(4917)
    expect(wrapped.id).toBe(4917)
    const multi = { ...created, uploadId: "up-1", uploadUrls: ["https://s/1?sig=A", "https://s/2?sig=B"] }
    for (const schema of [FileMetadata.InitMultiPartUploadResponse, FileMetadata.MultiUploadLinkResponse]) {
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
