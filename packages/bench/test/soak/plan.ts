/**
 * The fault soak's plan (`../soak.test.ts`): a seeded random source, the client's and the emulator's settings, the
 * uploads (content kind, size, options) and the faults aimed at them, and what each may rightly end with.
 */
import type { Emulator } from "@effect-cdf/emulator"
import { Content } from "@effect-cdf/files"
import * as Files from "@effect-cdf/files/Files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Schedule, Stream } from "effect"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

// ---------------------------------------------------------------------------------------------------------------
// A seeded random source (mulberry32), so that SOAK_SEED replays the same uploads and faults.

export const makeRandom = (seed: number) => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1))
  const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)]
  const chance = (p: number) => next() < p
  const bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const word = Math.floor(next() * 4294967296)
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (word >>> (8 * j)) & 0xff
    }
    return out
  }
  return { next, int, pick, chance, bytes }
}
export type Random = ReturnType<typeof makeRandom>

// ---------------------------------------------------------------------------------------------------------------
// Settings of the client and the emulator

export const KiB = 1024
export const settings = {
  singlePutThreshold: 64 * KiB,
  partSize: 32 * KiB,
  minPartSize: 16 * KiB,
  retries: 4,
  apiTimeoutMillis: 750,
  transferTimeoutMillis: 1000,
  tokenLifetime: "1 second"
} as const

export const retrySchedule = Schedule.exponential("2 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(settings.retries))
)

// ---------------------------------------------------------------------------------------------------------------
// The fault classes, and what the right outcome of each is

export type FaultClass = "none" | "429" | "5xx" | "reset" | "hang" | "malformed" | "commitThenFail" | "tokenExpiry"
export type ContentKind = "bytes" | "string" | "factory" | "oneShot" | "oneShotUnsized" | "file"
export type Plan = "single" | "multipart"

export const rightOutcome: Record<FaultClass, string> = {
  none: "stored",
  "429": "429 + Retry-After on any route: retried after the (capped) delay: stored. One-shot content cannot be " +
    "resent after its PUT was refused: UploadError",
  "5xx": "500/502/503/504: idempotent routes (PUT, part, uploadlink, completion, token) are retried: stored. " +
    "POST files / initmultipartupload are not retried (a retry could duplicate): CdfApiError with that status, no " +
    "record; with an externalId a retry is safe, so stored is also right",
  reset: "connection dropped mid-body: a PUT of replayable content is retried: stored (one-shot: UploadError); " +
    "on POST files / initmultipartupload: CdfTransportError (stored with an externalId)",
  hang: "no answer within the attempt timeout: idempotent routes retried: stored; POST files / " +
    "initmultipartupload: CdfTimeoutError (stored with an externalId); one-shot PUT: UploadError or CdfTimeoutError",
  malformed: "a 2xx whose body is not JSON: on POST files / initmultipartupload CdfDecodeError (the create may " +
    "have committed: at most one record, not uploaded); on completion the body is ignored: stored",
  commitThenFail: "the record is created, then 503 or a dropped connection: without externalId CdfApiError / " +
    "CdfTransportError with at most that one orphan record; with an externalId the retry gets 409, proves the " +
    "record ours and resumes on it: stored, one record",
  tokenExpiry: "the token expires (1 s lifetime) or is refused with 401: the client refreshes it and retries: " +
    "stored (AuthError only if no new token can be had)"
}

export interface PlannedFault {
  readonly fault: FaultClass
  readonly route: Emulator.RouteName
  readonly action: Emulator.FaultAction
  readonly attempts: ReadonlyArray<number>
}

export interface Upload {
  readonly index: number
  readonly kind: ContentKind
  readonly size: number
  readonly plan: Plan
  readonly bytes: Uint8Array
  readonly text: string | undefined
  readonly options: Files.UploadBytesOptions
  readonly externalId: string | undefined
  readonly faults: ReadonlyArray<PlannedFault>
}

const textOf = (random: Random, size: number): string => {
  const alphabet = ["a", "b", "c", " ", "\n", "é", "日", "😀", "Z", "0"]
  const out: Array<string> = []
  let bytes = 0
  while (bytes < size) {
    const char = random.pick(alphabet)
    out.push(char)
    bytes += Buffer.byteLength(char)
  }
  return out.join("")
}

export const planUpload = (random: Random, index: number, seed: number): Upload => {
  const kind = random.pick<ContentKind>(["bytes", "bytes", "string", "factory", "oneShot", "oneShotUnsized", "file"])
  const band = random.next()
  const size = band < 0.03
    ? 0
    : band < 0.3
    ? random.int(1, KiB)
    : band < 0.65
    ? random.int(KiB, settings.singlePutThreshold)
    : random.int(settings.singlePutThreshold + 1, 256 * KiB)
  const text = kind === "string" ? textOf(random, size) : undefined
  const bytes = text === undefined ? random.bytes(size) : new TextEncoder().encode(text)
  const actualSize = bytes.length
  const plan: Plan = actualSize > settings.singlePutThreshold ? "multipart" : "single"
  const externalId = random.chance(0.5) ? `soak-${seed}-${index}` : undefined
  const options: Files.UploadBytesOptions = {
    // The index makes names unique, so that records can be told apart when uploads run concurrently.
    name: `${index} ${random.pick(["soak.bin", "data é.csv", "file", "日本.txt"])}`,
    ...(externalId === undefined ? {} : { externalId }),
    ...(random.chance(0.3) ? { mimeType: random.pick(["text/plain", "application/octet-stream"]) } : {}),
    ...(random.chance(0.2) ? { metadata: { soak: String(index), seed: String(seed) } } : {}),
    ...(random.chance(0.1) ? { directory: "/soak" } : {}),
    ...(random.chance(0.1) ? { source: "soak" } : {})
  }
  const faultCount = random.pick([0, 1, 1, 1, 2])
  const faults: Array<PlannedFault> = []
  for (let i = 0; i < faultCount; i++) {
    const fault = random.pick<FaultClass>(["429", "5xx", "reset", "hang", "malformed", "commitThenFail", "tokenExpiry"])
    const planned = planFault(random, fault, plan, actualSize)
    if (planned !== undefined && !faults.some((f) => f.route === planned.route)) faults.push(planned)
  }
  return { index, kind, size: actualSize, plan, bytes, text, options, externalId, faults }
}

const createRoute = (plan: Plan): Emulator.RouteName => plan === "single" ? "files.create" : "files.initmultipartupload"

export const planFault = (random: Random, fault: FaultClass, plan: Plan, size: number): PlannedFault | undefined => {
  const apiRoutes: ReadonlyArray<Emulator.RouteName> = plan === "single"
    ? ["files.create"]
    : ["files.initmultipartupload", "files.completemultipartupload"]
  const anyRoute = random.pick<Emulator.RouteName>([...apiRoutes, "storage.put", "storage.put"])
  const first = random.chance(0.7) ? [1] : [1, 2]
  switch (fault) {
    case "429":
      return {
        fault,
        route: anyRoute,
        attempts: first,
        action: { _tag: "Status", status: 429, retryAfter: random.pick(["0", "1"]) }
      }
    case "5xx":
      return {
        fault,
        route: anyRoute,
        attempts: [1],
        action: { _tag: "Status", status: random.pick([500, 502, 503, 504]) }
      }
    case "reset": {
      const route = random.chance(0.8) ? "storage.put" : createRoute(plan)
      const bytes = route === "storage.put" ? random.int(0, Math.max(0, Math.min(size, settings.partSize) - 1)) : 5
      if (route === "storage.put" && size === 0) return undefined
      return { fault, route, attempts: [1], action: { _tag: "ResetAfterBytes", bytes } }
    }
    case "hang":
      return { fault, route: anyRoute, attempts: [1], action: { _tag: "Hang" } }
    case "malformed":
      return { fault, route: random.pick(apiRoutes), attempts: [1], action: { _tag: "MalformedJson" } }
    case "commitThenFail":
      return {
        fault,
        route: createRoute(plan),
        attempts: [1],
        action: { _tag: "CommitThenFail", mode: random.pick(["status", "drop"] as const) }
      }
    case "tokenExpiry":
      return { fault, route: random.pick(apiRoutes), attempts: [1], action: { _tag: "Status", status: 401 } }
    case "none":
      return undefined
  }
}

/** The content as the user would hand it over. */
const contentOf = (upload: Upload): Content.Input => {
  const chunks = (): Array<Uint8Array> => {
    const out: Array<Uint8Array> = []
    for (let i = 0; i < upload.bytes.length; i += 7_777) out.push(upload.bytes.slice(i, i + 7_777))
    return out
  }
  async function* oneShot(): AsyncIterable<Uint8Array> {
    for (const chunk of chunks()) yield chunk
  }
  switch (upload.kind) {
    case "bytes":
      return upload.bytes
    case "string":
      return upload.text ?? ""
    case "factory":
      return Content.fromFactory(() => Stream.fromIterable(chunks()))
    case "oneShot":
      return Content.make(oneShot(), { size: upload.size })
    case "oneShotUnsized":
      return Content.make(oneShot())
    case "file":
      throw new Error("a file is uploaded by NodeFiles.uploadFile, see uploadOf")
  }
}

/**
 * The upload call: `Files.uploadBytes` of the content, or for a file, `NodeFiles.uploadFile` of a temporary file
 * holding the bytes (read from disk as it is sent, re-read for a retry), removed afterwards.
 */
export const uploadOf = (upload: Upload) =>
  upload.kind !== "file"
    ? Files.uploadBytes(contentOf(upload), upload.options)
    : Effect.acquireUseRelease(
      Effect.sync(() => {
        const dir = mkdtempSync(join(tmpdir(), "effect-cdf-soak-"))
        const file = join(dir, "content.bin")
        writeFileSync(file, upload.bytes)
        return dir
      }),
      (dir) => NodeFiles.uploadFile(join(dir, "content.bin"), upload.options).pipe(Effect.provide(NodeFileSystem.layer)),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )

/** One-shot content whose PUT cannot be resent: unless it is small enough to be buffered (unknown length). */
const isOneShot = (upload: Upload) =>
  upload.kind === "oneShot" || (upload.kind === "oneShotUnsized" && upload.size > settings.partSize)

const isCreate = (route: Emulator.RouteName) => route === "files.create" || route === "files.initmultipartupload"

/**
 * The error of a fault that only a create may fail on (POST files / initmultipartupload: never retried, as a retry
 * could duplicate the record); on the other routes the client recovers. A completion's 2xx body is ignored (the
 * spec's body is {}), so only a create's malformed answer may fail.
 */
const createFailure: Partial<Record<FaultClass, string>> = {
  "5xx": "CdfApiError",
  reset: "CdfTransportError",
  hang: "CdfTimeoutError",
  malformed: "CdfDecodeError"
}

/**
 * What the upload may end with: `stored`, or the tags of the errors its faults call for. `mustStore` says that
 * every fault on it is one the client is expected to recover from.
 */
export const expectations = (upload: Upload): { readonly allowed: ReadonlySet<string>; readonly mustStore: boolean } => {
  const allowed = new Set<string>(["stored"])
  let mustStore = true
  if (upload.kind === "oneShotUnsized" && upload.size > settings.partSize) {
    // A one-shot stream of unknown length longer than one part cannot be sent without spooling (no NodeFiles layer
    // here): it must fail before any request.
    return { allowed: new Set(["FileSizeLimitError"]), mustStore: false }
  }
  for (const f of upload.faults) {
    const withExternalId = upload.externalId !== undefined
    if (f.route === "storage.put" && isOneShot(upload) && f.fault !== "tokenExpiry") {
      allowed.add("UploadError")
      allowed.add("CdfTimeoutError")
      mustStore = false
      continue
    }
    const failure = createFailure[f.fault]
    if (failure !== undefined) {
      if (isCreate(f.route)) {
        allowed.add(failure)
        mustStore = false
      }
      continue
    }
    switch (f.fault) {
      case "none":
      case "429":
        break
      case "commitThenFail":
        if (!withExternalId) {
          allowed.add("CdfApiError")
          allowed.add("CdfTransportError")
          mustStore = false
        }
        break
      case "tokenExpiry":
        allowed.add("AuthError")
        break
    }
  }
  return { allowed, mustStore }
}

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
