/**
 * The records of an emulator with `persist` and a `dataDir`: written to `<dataDir>/records.json` when the server
 * stops, read back when it starts, so that a second run sees what the first one stored (`cdf-files sync
 * --emulator` run twice skips everything the second time). Content stays where disk mode wrote it; content held in
 * memory is written beside it. Sessions, upload URLs, tokens, faults and the request log are not kept. A process
 * killed with SIGKILL writes nothing: the next start has the records of the last clean stop.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Source, StoredContent } from "./content.js"
import { type FileEntry, instanceKey, type State } from "./state.js"

interface ContentJson {
  readonly size: number
  readonly sha256: string
  readonly source: { readonly _tag: "File"; readonly path: string } | {
    readonly _tag: "Concat"
    readonly parts: ReadonlyArray<ContentJson>
  }
}

const ContentJson: Schema.Schema<ContentJson> = Schema.Struct({
  size: Schema.NonNegativeInt,
  sha256: Schema.String,
  source: Schema.Union(
    Schema.TaggedStruct("File", { path: Schema.String }),
    Schema.TaggedStruct("Concat", { parts: Schema.Array(Schema.suspend((): Schema.Schema<ContentJson> => ContentJson)) })
  )
})

const Snapshot = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  project: Schema.String,
  nextId: Schema.Int,
  files: Schema.Array(Schema.Struct({
    id: Schema.Int,
    fields: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
    createdTime: Schema.Number,
    lastUpdatedTime: Schema.Number,
    arrivedAt: Schema.NullOr(Schema.Number),
    content: Schema.NullOr(ContentJson)
  }))
}))

/** @internal */
export const snapshotFile = (dataDir: string): string => join(dataDir, "records.json")

const toJson = (content: StoredContent, dataDir: string): ContentJson => {
  const source: Source = content.source
  switch (source._tag) {
    case "File":
      return { size: content.size, sha256: content.sha256, source }
    case "Concat":
      return {
        size: content.size,
        sha256: content.sha256,
        source: { _tag: "Concat", parts: source.parts.map((part) => toJson(part, dataDir)) }
      }
    case "Memory": {
      const path = join(dataDir, `${randomUUID()}.bin`)
      writeFileSync(path, Buffer.concat(source.chunks))
      return { size: content.size, sha256: content.sha256, source: { _tag: "File", path } }
    }
  }
}

const fromJson = (content: ContentJson): StoredContent =>
  content.source._tag === "File"
    ? { size: content.size, sha256: content.sha256, source: content.source }
    : { size: content.size, sha256: content.sha256, source: { _tag: "Concat", parts: content.source.parts.map(fromJson) } }

/** Writes the records (a temporary file, then a rename: a crash mid-write leaves the previous snapshot). @internal */
export const save = (state: State, dataDir: string): Effect.Effect<void> =>
  Effect.sync(() => {
    const snapshot = {
      version: 1 as const,
      project: state.project,
      nextId: state.nextId,
      files: [...state.files.values()].map((entry) => ({
        id: entry.id,
        fields: entry.fields,
        createdTime: entry.createdTime,
        lastUpdatedTime: entry.lastUpdatedTime,
        arrivedAt: entry.arrivedAt ?? null,
        content: entry.content === undefined ? null : toJson(entry.content, dataDir)
      }))
    }
    const file = snapshotFile(dataDir)
    writeFileSync(`${file}.tmp`, Schema.encodeSync(Snapshot)(snapshot))
    renameSync(`${file}.tmp`, file)
  })

/**
 * Reads the records of the last clean stop, if any, into an empty state. A snapshot of another project, or one
 * that does not decode, is a defect naming the file: the emulator does not start on data it cannot read.
 *
 * @internal
 */
export const load = (state: State, dataDir: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    const file = snapshotFile(dataDir)
    if (!existsSync(file)) return Effect.void
    return Schema.decodeUnknown(Snapshot)(readFileSync(file, "utf8")).pipe(
      Effect.orDieWith((error) => new Error(`the emulator's records in ${file} cannot be read: ${error.message}`)),
      Effect.flatMap((snapshot) =>
        snapshot.project !== state.project
          ? Effect.dieMessage(`the emulator's records in ${file} are of project ${snapshot.project}, not ${state.project}`)
          : Effect.sync(() => {
            for (const row of snapshot.files) {
              const entry: FileEntry = {
                id: row.id,
                fields: row.fields as FileEntry["fields"],
                createdTime: row.createdTime,
                lastUpdatedTime: row.lastUpdatedTime,
                arrivedAt: row.arrivedAt ?? undefined,
                content: row.content === null ? undefined : fromJson(row.content),
                puts: []
              }
              state.files.set(entry.id, entry)
              const externalId = entry.fields.externalId
              if (typeof externalId === "string") state.byExternalId.set(externalId, entry.id)
              const instanceId = entry.fields["instanceId"] as { space: string; externalId: string } | undefined
              if (instanceId !== undefined) state.byInstanceId.set(instanceKey(instanceId), entry.id)
            }
            state.nextId = Math.max(state.nextId, snapshot.nextId)
          })
      )
    )
  })
