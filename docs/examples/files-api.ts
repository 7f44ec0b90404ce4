/**
 * The Files API around an upload: retrieveMany, list, update, delete, downloadUrl, download and verify. Quoted by
 * docs/files-api.md. `main` runs against any CDF project or emulator: `main({ baseUrl, project, token })`.
 */
import { Files } from "@effect-cdf/files"
import { makeFilesClient } from "@effect-cdf/files/NodeFilesClient"
import { Chunk, Effect, Redacted, Stream } from "effect"
import { randomUUID } from "node:crypto"

// [retrieve-many]
// Which of these external ids exist already? Any number of ids: 1000 per request, the answer in the order asked.
export const existing = (externalIds: ReadonlyArray<string>) =>
  Files.retrieveMany(externalIds.map((externalId) => ({ externalId })), { ignoreUnknownIds: true }).pipe(
    Effect.map((files) => new Set(files.map((file) => file.externalId)))
  )
// [/retrieve-many]

// [list]
// The CSV files of a directory, as a stream: each page (here 100 records) is fetched when it is needed.
export const csvNames = (directoryPrefix: string) =>
  Files.list({ directoryPrefix, mimeType: "text/csv" }, { pageSize: 100 }).pipe(
    Stream.map((file) => file.name),
    Stream.runCollect,
    Effect.map(Chunk.toArray)
  )
// [/list]

// [list-geo]
// The files located within a polygon (GeoJSON, longitude first): INTERSECTS, DISJOINT and WITHIN are the relations.
export const namesWithin = (polygon: ReadonlyArray<readonly [number, number]>) =>
  Files.list({
    geoLocation: { relation: "WITHIN", shape: { type: "Polygon", coordinates: [polygon] } }
  }).pipe(Stream.map((file) => file.name), Stream.runCollect, Effect.map(Chunk.toArray))
// [/list-geo]

// [update]
// Fix the metadata of a file after its upload: add and remove keys, set one field, clear another.
export const markReviewed = (externalId: string) =>
  Files.update([{
    externalId,
    update: {
      metadata: { add: { reviewed: "yes" }, remove: ["draft"] },
      source: { set: "review-tool" },
      sourceModifiedTime: { setNull: true }
    }
  }])
// [/update]

// [download]
// Read a file back: a stream of bytes that resumes from the last byte received when a GET fails.
export const readText = (externalId: string) =>
  Files.download({ externalId }).pipe(Stream.decodeText(), Stream.mkString)
// [/download]

// [download-url]
// A link to hand to someone else: it is its own credential, so it is Redacted (never logged or traced).
export const shareableLink = (externalId: string) =>
  Files.downloadUrl({ externalId }, { extendedExpiration: true }).pipe(Effect.map(Redacted.value))
// [/download-url]

// [verify]
// Upload, then read the file back and compare sha256 with what was sent; a mismatch is a DownloadError.
export const uploadChecked = (externalId: string) =>
  Files.uploadBytes("a,b\n1,2\n", {
    name: "checked.csv",
    externalId,
    directory: "/reports",
    mimeType: "text/csv",
    metadata: { draft: "yes" },
    verify: true
  })
// [/verify]

// [delete]
// Delete by id or external id, any number of them; ignoreUnknownIds makes it safe to run twice.
export const removeAll = (externalIds: ReadonlyArray<string>) =>
  Files.delete(externalIds.map((externalId) => ({ externalId })), { ignoreUnknownIds: true })
// [/delete]

// The same calls from Promise code: the Promise client's runtime runs any Effect against its layers.
export const main = async (env: { baseUrl: string; project: string; token: string }) => {
  const client = makeFilesClient(env)
  const externalId = `files-api-example-${randomUUID()}`
  try {
    return await client.runtime.runPromise(Effect.gen(function*() {
      const uploaded = yield* uploadChecked(externalId)
      const found = yield* existing([externalId, `${externalId}-missing`])
      const names = yield* csvNames("/reports")
      const located = yield* namesWithin([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]])
      const [updated] = yield* markReviewed(externalId)
      const text = yield* readText(externalId)
      const link = yield* shareableLink(externalId)
      yield* removeAll([externalId, `${externalId}-missing`])
      const left = yield* existing([externalId])
      return {
        uploaded: uploaded.uploaded,
        found: [...found],
        names,
        located,
        metadata: updated?.metadata,
        text,
        linked: link.length > 0,
        left: left.size
      }
    }))
  } finally {
    await client.dispose()
  }
}
