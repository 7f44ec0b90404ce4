import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto"
import { mkdirSync } from "node:fs"
import type { Fault, InstanceFileOptions, LoggedRequest, Options, PutRecord, RouteName, StoredFile } from "../Emulator.js"
import type { StoredContent } from "./content.js"

/** The validated request fields of a file record (ExternalFilesMetadata). */
export type Fields = Readonly<Record<string, unknown>> & { readonly name: string; readonly externalId?: string }

export interface FileEntry {
  readonly id: number
  fields: Fields
  readonly createdTime: number
  lastUpdatedTime: number
  content: StoredContent | undefined
  arrivedAt: number | undefined
  readonly puts: Array<PutRecord>
}

/** A new record with `fields`, created at `now`, with no content yet, stored under the next id. */
export const addEntry = (state: State, fields: Fields, now: number): FileEntry => {
  const entry: FileEntry = {
    id: state.nextId++,
    fields,
    createdTime: now,
    lastUpdatedTime: now,
    content: undefined,
    arrivedAt: undefined,
    puts: []
  }
  state.files.set(entry.id, entry)
  return entry
}

export interface MultipartSession {
  readonly uploadId: string
  readonly fileId: number
  readonly parts: number
  readonly received: Array<StoredContent | undefined>
  /** set (synchronously, once the parts are checked) by the first completion; later ones await it */
  completion: Effect.Effect<void> | undefined
}

export interface UploadTarget {
  readonly key: string
  readonly signature: string
  readonly fileId: number
  readonly part: number | undefined
  readonly session: MultipartSession | undefined
  /** PUTs at or after this time (Effect clock, ms) get storage's 403 for an expired signature */
  readonly expiresAt: number
}

/** A signed download URL: valid until `expiresAt` (Effect clock, ms). */
export interface DownloadLink {
  readonly key: string
  readonly signature: string
  readonly fileId: number
  readonly expiresAt: number
}

export interface MutableLoggedRequest {
  route: RouteName | "unknown"
  method: string
  path: string
  status: number
  attempt: number
  requestId: string | undefined
  headers: Record<string, string>
}

export interface State {
  readonly project: string
  readonly baseUrl: string
  readonly storageUrl: string
  readonly tokenUrl: string
  readonly tokenPath: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly tokenLifetime: Duration.Duration
  readonly dataDir: string | undefined
  readonly singlePutLimit: number
  readonly minPartSize: number
  readonly allowFewerParts: boolean
  /** the control routes (`/_emulator/...`) need a valid bearer token */
  readonly protectControlRoutes: boolean
  readonly uploadedDelayMillis: number
  readonly uploadUrlLifetimeMillis: number
  readonly tokens: Map<string, number>
  readonly files: Map<number, FileEntry>
  readonly byExternalId: Map<string, number>
  /** key: instanceKey(space, externalId) */
  readonly byInstanceId: Map<string, number>
  readonly targets: Map<string, UploadTarget>
  readonly sessions: Map<string, MultipartSession>
  readonly downloads: Map<string, DownloadLink>
  readonly log: Array<MutableLoggedRequest>
  readonly attempts: Map<string, number>
  faults: Array<Fault>
  nextId: number
  readonly issueToken: (lifetime: Duration.DurationInput | undefined) => Effect.Effect<Redacted.Redacted<string>>
  readonly isValidToken: (token: string) => Effect.Effect<boolean>
  /** `isValidToken` at `now` (Effect clock, ms) */
  readonly isValidTokenAt: (token: string, now: number) => boolean
  readonly listFiles: Effect.Effect<ReadonlyArray<StoredFile>>
  readonly listRequests: Effect.Effect<ReadonlyArray<LoggedRequest>>
  readonly createInstanceFile: (options: InstanceFileOptions) => Effect.Effect<StoredFile>
  readonly addFault: (fault: Fault) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  readonly reset: Effect.Effect<void>
  readonly renderRecord: (entry: FileEntry, now: number) => Record<string, unknown>
  readonly isUploaded: (entry: FileEntry, now: number) => boolean
  /** a signed upload URL (a single PUT, or a part of `session`), valid for `uploadUrlLifetimeMillis` from `now` */
  readonly newTarget: (
    fileId: number,
    part: number | undefined,
    session: MultipartSession | undefined,
    now: number
  ) => string
  /** a signed download URL of the file's content, valid until `expiresAt` */
  readonly newDownloadLink: (fileId: number, expiresAt: number) => string
}

/** The key of an instance id in `byInstanceId`. */
export const instanceKey = (instanceId: { readonly space: string; readonly externalId: string }) =>
  `${instanceId.space}\u0000${instanceId.externalId}`

/** Random bytes drawn ahead (as `randomUUID` does): one `randomBytes` call serves many secrets. */
let pool = Buffer.alloc(0)
let drawn = 0

/** A random, URL-safe secret of `bytes` random bytes. */
export const secret = (bytes = 24): string => {
  if (drawn + bytes > pool.length) {
    pool = randomBytes(Math.max(8192, bytes))
    drawn = 0
  }
  const value = pool.toString("base64url", drawn, drawn + bytes)
  // used bytes are overwritten: a secret's bytes stay in memory no longer than the secret itself
  pool.fill(0, drawn, drawn + bytes)
  drawn += bytes
  return value
}

/** Compares two secrets in constant time. */
export const secretEquals = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export const make = (
  options: Options,
  origins: { readonly baseUrl: string; readonly storageUrl: string }
): Effect.Effect<State> =>
  Effect.sync(() => {
    const project = options.project ?? "emulator"
    const tokenPath = "/oauth2/token"
    const dataDir = options.dataDir
    if (dataDir !== undefined) {
      mkdirSync(dataDir, { recursive: true })
    }
    const tokenLifetime = Duration.decode(options.tokenLifetime ?? "1 hour")
    const uploadedDelayMillis = Duration.toMillis(Duration.decode(options.uploadedDelay ?? 0))
    const uploadUrlLifetimeMillis = Duration.toMillis(Duration.decode(options.uploadUrlLifetime ?? "7 days"))

    const isUploaded = (entry: FileEntry, now: number) =>
      entry.arrivedAt !== undefined && now >= entry.arrivedAt + uploadedDelayMillis

    const renderRecord = (entry: FileEntry, now: number): Record<string, unknown> => {
      const uploaded = isUploaded(entry, now)
      return {
        id: entry.id,
        ...entry.fields,
        labels: entry.fields["labels"] ?? [],
        uploaded,
        ...(uploaded && entry.arrivedAt !== undefined ? { uploadedTime: entry.arrivedAt + uploadedDelayMillis } : {}),
        createdTime: entry.createdTime,
        lastUpdatedTime: entry.lastUpdatedTime
      }
    }

    const toStoredFile = (entry: FileEntry, now: number): StoredFile => ({
      id: entry.id,
      externalId: entry.fields.externalId,
      name: entry.fields.name,
      record: renderRecord(entry, now),
      uploaded: isUploaded(entry, now),
      size: entry.content?.size,
      sha256: entry.content?.sha256,
      puts: entry.puts.map((put) => ({ ...put }))
    })

    const state: State = {
      project,
      baseUrl: origins.baseUrl,
      storageUrl: origins.storageUrl,
      tokenUrl: `${origins.baseUrl}${tokenPath}`,
      tokenPath,
      clientId: options.clientId ?? "emulator-client",
      clientSecret: Redacted.make(options.clientSecret ?? "emulator-secret"),
      tokenLifetime,
      dataDir,
      singlePutLimit: options.singlePutLimit ?? 5_000_000_000,
      minPartSize: options.minPartSize ?? 5 * 1024 * 1024,
      allowFewerParts: options.allowFewerParts ?? false,
      protectControlRoutes: options.protectControlRoutes ?? false,
      uploadedDelayMillis,
      uploadUrlLifetimeMillis,
      tokens: new Map(),
      files: new Map(),
      byExternalId: new Map(),
      byInstanceId: new Map(),
      targets: new Map(),
      sessions: new Map(),
      downloads: new Map(),
      log: [],
      attempts: new Map(),
      faults: [...(options.faults ?? [])],
      nextId: 1,
      issueToken: (lifetime) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const token = secret(32)
          const millis = Duration.toMillis(lifetime === undefined ? tokenLifetime : Duration.decode(lifetime))
          state.tokens.set(token, now + millis)
          return Redacted.make(token)
        }),
      isValidToken: (token) => Effect.map(Clock.currentTimeMillis, (now) => state.isValidTokenAt(token, now)),
      isValidTokenAt: (token, now) => {
        const expiresAt = state.tokens.get(token)
        return expiresAt !== undefined && now < expiresAt
      },
      listFiles: Effect.map(Clock.currentTimeMillis, (now) =>
        [...state.files.values()]
          .sort((a, b) => a.id - b.id)
          .map((entry) => toStoredFile(entry, now))),
      createInstanceFile: (options) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const key = instanceKey(options.instanceId)
          const existing = state.byInstanceId.get(key)
          const found = existing === undefined ? undefined : state.files.get(existing)
          if (found !== undefined) return toStoredFile(found, now)
          const entry = addEntry(state, {
            instanceId: { space: options.instanceId.space, externalId: options.instanceId.externalId },
            name: options.name ?? "untitled",
            ...(options.mimeType === undefined ? {} : { mimeType: options.mimeType }),
            ...(options.directory === undefined ? {} : { directory: options.directory })
          }, now)
          state.byInstanceId.set(key, entry.id)
          return toStoredFile(entry, now)
        }),
      listRequests: Effect.sync(() => state.log.map((entry) => ({ ...entry, headers: { ...entry.headers } }))),
      addFault: (fault) => Effect.sync(() => void state.faults.push(fault)),
      clearFaults: Effect.sync(() => {
        state.faults = []
      }),
      reset: Effect.sync(() => {
        state.files.clear()
        state.byExternalId.clear()
        state.byInstanceId.clear()
        state.targets.clear()
        state.sessions.clear()
        state.downloads.clear()
        state.log.length = 0
        state.attempts.clear()
        state.faults = []
      }),
      renderRecord,
      isUploaded,
      newTarget: (fileId, part, session, now) => {
        const key = randomUUID()
        const signature = secret()
        state.targets.set(key, { key, signature, fileId, part, session, expiresAt: now + uploadUrlLifetimeMillis })
        const path = part === undefined ? `/storage/${project}/files/${key}` : `/storage/${project}/parts/${key}`
        return `${origins.storageUrl}${path}?sig=${signature}`
      },
      newDownloadLink: (fileId, expiresAt) => {
        const key = randomUUID()
        const signature = secret()
        state.downloads.set(key, { key, signature, fileId, expiresAt })
        return `${origins.storageUrl}/storage/${project}/download/${key}?exp=${expiresAt}&sig=${signature}`
      }
    }
    return state
  })
