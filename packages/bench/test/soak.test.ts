/**
 * The fault soak: many uploads of random content, size and options against the emulator on a real port (storage on
 * a separate origin), on the live clock with millisecond schedules, while the emulator injects a random mix of
 * faults. Every upload must either store exactly its bytes or fail with the typed error its faults call for; never
 * two records for one call; never an Authorization (or x-cdp-*, cdf-version) header at the storage origin; no secret
 * in the captured logs or errors; no defect; retries bounded.
 *
 * A sequential phase (one upload at a time, the emulator reset in between, so every fault is aimed at one upload and
 * its right outcome is exact) and a concurrent phase (8 at a time, faults landing on whichever request comes).
 * SOAK_UPLOADS (default 60) and SOAK_CONCURRENT (default 40) set the counts, SOAK_SEED replays a run (the seed is
 * printed).
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, CdfError, Content } from "@effect-cdf/files"
import * as Files from "@effect-cdf/files/Files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import * as HttpClient from "@effect/platform/HttpClient"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted, Schedule, Stream, Tracer } from "effect"
import { createHash } from "node:crypto"
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const UPLOADS = Number(process.env["SOAK_UPLOADS"] ?? 60)
const CONCURRENT = Number(process.env["SOAK_CONCURRENT"] ?? 40)
const SEED = process.env["SOAK_SEED"] !== undefined && process.env["SOAK_SEED"] !== ""
  ? Number(process.env["SOAK_SEED"]) >>> 0
  : (Date.now() ^ (process.pid << 16)) >>> 0

// ---------------------------------------------------------------------------------------------------------------
// A seeded random source (mulberry32), so that SOAK_SEED replays the same uploads and faults.

const makeRandom = (seed: number) => {
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
type Random = ReturnType<typeof makeRandom>

// ---------------------------------------------------------------------------------------------------------------
// Settings of the client and the emulator

const KiB = 1024
const settings = {
  singlePutThreshold: 64 * KiB,
  partSize: 32 * KiB,
  minPartSize: 16 * KiB,
  retries: 4,
  apiTimeoutMillis: 750,
  transferTimeoutMillis: 1000,
  tokenLifetime: "1 second"
} as const

const retrySchedule = Schedule.exponential("2 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(settings.retries))
)

// ---------------------------------------------------------------------------------------------------------------
// The fault classes, and what the right outcome of each is

type FaultClass = "none" | "429" | "5xx" | "reset" | "hang" | "malformed" | "commitThenFail" | "tokenExpiry"
type ContentKind = "bytes" | "string" | "factory" | "oneShot" | "oneShotUnsized" | "file"
type Plan = "single" | "multipart"

const rightOutcome: Record<FaultClass, string> = {
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

interface PlannedFault {
  readonly fault: FaultClass
  readonly route: Emulator.RouteName
  readonly action: Emulator.FaultAction
  readonly attempts: ReadonlyArray<number>
}

interface Upload {
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

const planUpload = (random: Random, index: number): Upload => {
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
  const externalId = random.chance(0.5) ? `soak-${SEED}-${index}` : undefined
  const options: Files.UploadBytesOptions = {
    // The index makes names unique, so that records can be told apart when uploads run concurrently.
    name: `${index} ${random.pick(["soak.bin", "data é.csv", "file", "日本.txt"])}`,
    ...(externalId === undefined ? {} : { externalId }),
    ...(random.chance(0.3) ? { mimeType: random.pick(["text/plain", "application/octet-stream"]) } : {}),
    ...(random.chance(0.2) ? { metadata: { soak: String(index), seed: String(SEED) } } : {}),
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

const planFault = (random: Random, fault: FaultClass, plan: Plan, size: number): PlannedFault | undefined => {
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
const uploadOf = (upload: Upload) =>
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
 * What the upload may end with: `stored`, or the tags of the errors its faults call for. `mustStore` says that
 * every fault on it is one the client is expected to recover from.
 */
const expectations = (upload: Upload): { readonly allowed: ReadonlySet<string>; readonly mustStore: boolean } => {
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
    switch (f.fault) {
      case "none":
      case "429":
        break
      case "5xx":
        if (isCreate(f.route)) {
          allowed.add("CdfApiError")
          mustStore = false
        }
        break
      case "reset":
        if (isCreate(f.route)) {
          allowed.add("CdfTransportError")
          mustStore = false
        }
        break
      case "hang":
        if (isCreate(f.route)) {
          allowed.add("CdfTimeoutError")
          mustStore = false
        }
        break
      case "malformed":
        // A completion's 2xx body is ignored (the spec's body is {}): only a create's malformed answer may fail.
        if (isCreate(f.route)) {
          allowed.add("CdfDecodeError")
          mustStore = false
        }
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

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

// ---------------------------------------------------------------------------------------------------------------
// Capture: log lines (every level), the secrets that crossed the wire (tokens issued, upload-URL signatures)

const captured = { lines: [] as Array<string>, spans: [] as Array<string>, secrets: new Set<string>() }

/** A tracer that keeps every span's name, attributes and events as text, to look for secrets in them. */
const CaptureTracer = Tracer.make({
  span: (name, parent, context, links, startTime, kind) => {
    const attributes = new Map<string, unknown>()
    const events: Array<string> = []
    let status: Tracer.SpanStatus = { _tag: "Started", startTime }
    const id = String(captured.spans.length)
    const span: Tracer.Span = {
      _tag: "Span",
      name,
      spanId: id,
      traceId: "soak",
      parent,
      context,
      get status() {
        return status
      },
      attributes,
      links: [...links],
      sampled: true,
      kind,
      end: (endTime, exit) => {
        status = { _tag: "Ended", startTime, endTime, exit }
        captured.spans.push(
          `${name} ${JSON.stringify([...attributes.entries()], (_, v) => typeof v === "bigint" ? String(v) : v)} ${
            events.join(" ")
          } ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""}`
        )
      },
      attribute: (key, value) => {
        attributes.set(key, value)
      },
      event: (eventName, _time, eventAttributes) => {
        events.push(`${eventName} ${JSON.stringify(eventAttributes ?? {})}`)
      },
      addLinks: () => {}
    }
    return span
  },
  context: (f) => f()
})

const CaptureLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.map(Logger.logfmtLogger, (line) => {
    captured.lines.push(line)
  })
)

const recordSecrets = (storageUrl: string, tokenUrl: string) => (client: HttpClient.HttpClient) =>
  client.pipe(
    HttpClient.tapRequest((request) =>
      Effect.sync(() => {
        if (!request.url.startsWith(storageUrl)) return
        const query = request.url.split("?")[1]
        if (query !== undefined) {
          for (const value of new URLSearchParams(query).values()) if (value.length >= 8) captured.secrets.add(value)
        }
      })
    ),
    HttpClient.tap((response) =>
      response.request.url.startsWith(tokenUrl)
        ? response.text.pipe(
          Effect.tap((text) =>
            Effect.sync(() => {
              const token = /"access_token"\s*:\s*"([^"]+)"/.exec(text)?.[1]
              if (token !== undefined) captured.secrets.add(token)
            })
          ),
          Effect.ignore
        )
        : Effect.void
    )
  )

// ---------------------------------------------------------------------------------------------------------------

interface Outcome {
  readonly upload: Upload
  readonly result: string
  readonly records: number
  readonly requests: ReadonlyArray<Emulator.LoggedRequest>
}

const soakLayer = Layer.unwrapEffect(Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  captured.secrets.add(Redacted.value(emulator.clientSecret))
  captured.secrets.add(Redacted.value(emulator.token))
  const http = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, recordSecrets(emulator.storageUrl, emulator.tokenUrl))
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
  const config = CdfConfig.layer({
    baseUrl: emulator.baseUrl,
    project: emulator.project,
    apiTimeout: `${settings.apiTimeoutMillis} millis`,
    transferTimeout: `${settings.transferTimeoutMillis} millis`,
    stallTimeout: `${settings.transferTimeoutMillis} millis`,
    apiRetrySchedule: retrySchedule,
    transferRetrySchedule: retrySchedule,
    maxRetryDelay: "20 millis",
    singlePutThreshold: settings.singlePutThreshold,
    partSize: settings.partSize
  })
  const auth = CdfAuth.layerClientCredentials({
    tokenUrl: emulator.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    scopes: [`${emulator.baseUrl}/.default`],
    retrySchedule
  })
  return Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(config),
    Layer.provide(auth),
    Layer.provide(http)
  )
})).pipe(
  Layer.provideMerge(Layer.orDie(Emulator.layerServer({
    storageOrigin: "separate",
    tokenLifetime: settings.tokenLifetime,
    minPartSize: settings.minPartSize
  }))),
  Layer.orDie
)

/** SOAK_TRACE=<file>: one line per upload as it starts, to find a hang while the run is going. */
const trace = (line: string) => {
  const file = process.env["SOAK_TRACE"]
  if (file !== undefined && file !== "") appendFileSync(file, `${new Date().toISOString()} ${line}\n`)
}

const runOne = (upload: Upload) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    trace(`upload ${upload.index} ${upload.kind} ${upload.size} ${upload.plan} ${JSON.stringify(upload.faults)}`)
    yield* emulator.reset
    for (const f of upload.faults) yield* emulator.addFault({ route: f.route, attempts: f.attempts, action: f.action })
    const exit = yield* uploadOf(upload).pipe(
      Effect.timeoutFail({
        duration: "15 seconds",
        onTimeout: () => new Error(`upload ${upload.index} did not end within 15 s`)
      }),
      Effect.exit
    )
    yield* emulator.clearFaults
    const files = yield* emulator.files
    const requests = yield* emulator.requests
    const where = `upload ${upload.index} (seed ${SEED}, ${upload.kind}, ${upload.size} B, ${upload.plan}, ` +
      `externalId ${upload.externalId !== undefined}, faults ${
        JSON.stringify(upload.faults.map((f) => [f.fault, f.route, f.attempts, f.action._tag]))
      })`

    // Never two records for one call.
    expect(files.length, `${where}: records`).toBeLessThanOrEqual(1)
    // No Authorization, x-cdp-* or cdf-version header at the (foreign-origin) storage.
    for (const request of requests.filter((r) => r.route === "storage.put")) {
      const names = Object.keys(request.headers).map((h) => h.toLowerCase())
      expect(names, `${where}: storage headers`).not.toContain("authorization")
      expect(names.filter((h) => h.startsWith("x-cdp-") || h === "cdf-version"), `${where}: storage headers`)
        .toEqual([])
    }
    // Retries bounded: per route, at most (1 + retries + 1 auth refresh) attempts per operation.
    const perOperation = settings.retries + 2
    const parts = upload.plan === "multipart" ? Math.ceil(upload.size / settings.partSize) : 1
    for (const route of new Set(requests.map((r) => r.route))) {
      const count = requests.filter((r) => r.route === route).length
      const operations = route === "storage.put" ? parts : route === "token" ? 2 : 3
      expect(count, `${where}: attempts on ${route}`).toBeLessThanOrEqual(operations * perOperation)
    }

    const { allowed, mustStore } = expectations(upload)
    if (Exit.isSuccess(exit)) {
      const stored = files[0]
      expect(stored, `${where}: the record`).toBeDefined()
      expect(stored?.id, `${where}: the id returned`).toBe(exit.value.id)
      expect(stored?.sha256, `${where}: sha256 of stored bytes`).toBe(sha256(upload.bytes))
      expect(stored?.size, `${where}: size`).toBe(upload.size)
      if (upload.externalId !== undefined) expect(stored?.externalId).toBe(upload.externalId)
      expect(allowed.has("stored"), `${where}: stored although ${[...allowed].join("/")} was due`).toBe(true)
      trace(`  -> stored`)
      return { upload, result: "stored", records: files.length, requests } satisfies Outcome
    }
    // No defect, no interruption: a typed error.
    expect(Cause.isDie(exit.cause), `${where}: defect ${Cause.pretty(exit.cause)}`).toBe(false)
    expect(Cause.isInterrupted(exit.cause), `${where}: interrupted`).toBe(false)
    const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
    expect(CdfError.isCdfError(error), `${where}: not a CdfError: ${Cause.pretty(exit.cause)}`).toBe(true)
    if (!CdfError.isCdfError(error)) throw new Error("unreachable")
    expect(mustStore, `${where}: should have been stored, failed with ${error._tag}: ${error.message}`).toBe(false)
    expect([...allowed], `${where}: ${error._tag}: ${error.message}`).toContain(error._tag)
    // Secrets never reach errors.
    const rendered = `${error.message} ${JSON.stringify(error)} ${Cause.pretty(exit.cause)}`
    for (const secret of captured.secrets) expect(rendered.includes(secret), `${where}: a secret in the error`).toBe(false)
    // A record left behind was not completed with other bytes; a record the error says was deleted is gone.
    for (const file of files) {
      if (file.sha256 !== undefined) expect(file.sha256, `${where}: leftover content`).toBe(sha256(upload.bytes))
    }
    if (error.cleanup?.deleted === true) {
      expect(files.map((f) => f.id), `${where}: deleted record`).not.toContain(error.cleanup.fileId)
    }
    if (error._tag === "FileSizeLimitError") {
      expect(requests.filter((r) => r.route !== "token"), `${where}: requests before FileSizeLimitError`).toEqual([])
    }
    trace(`  -> ${error._tag}: ${error.message}`)
    return { upload, result: error._tag, records: files.length, requests } satisfies Outcome
  })

/** Errors any fault may cause when uploads run concurrently and faults hit whichever request comes. */
const concurrentErrors: ReadonlySet<string> = new Set([
  "UploadError",
  "CdfTimeoutError",
  "CdfApiError",
  "CdfTransportError",
  "CdfDecodeError",
  "AuthError"
])

/**
 * The concurrent phase: uploads 8 at a time while faults hit random attempt numbers of random routes, so a fault
 * lands on whichever upload's request comes. Outcomes are told apart by the unique file names.
 */
const runConcurrent = (uploads: ReadonlyArray<Upload>, faults: ReadonlyArray<PlannedFault>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    yield* emulator.reset
    for (const f of faults) yield* emulator.addFault({ route: f.route, attempts: f.attempts, action: f.action })
    trace(`concurrent phase: ${uploads.length} uploads, faults ${JSON.stringify(faults)}`)
    const exits = yield* Effect.forEach(
      uploads,
      (upload) =>
        uploadOf(upload).pipe(
          Effect.timeoutFail({
            duration: "20 seconds",
            onTimeout: () => new Error(`upload ${upload.index} did not end within 20 s`)
          }),
          Effect.exit
        ),
      { concurrency: 8 }
    )
    yield* emulator.clearFaults
    const files = yield* emulator.files
    const requests = yield* emulator.requests
    const where = (upload: Upload) =>
      `concurrent upload ${upload.index} (seed ${SEED}, ${upload.kind}, ${upload.size} B, ${upload.plan})`
    const results: Array<string> = []
    uploads.forEach((upload, i) => {
      const exit = exits[i]
      const records = files.filter((f) => f.name === upload.options.name)
      expect(records.length, `${where(upload)}: records`).toBeLessThanOrEqual(1)
      if (Exit.isSuccess(exit)) {
        expect(records[0]?.id, `${where(upload)}: the record`).toBe(exit.value.id)
        expect(records[0]?.sha256, `${where(upload)}: sha256 of stored bytes`).toBe(sha256(upload.bytes))
        results.push("stored")
        return
      }
      expect(Cause.isDie(exit.cause), `${where(upload)}: defect ${Cause.pretty(exit.cause)}`).toBe(false)
      expect(Cause.isInterrupted(exit.cause), `${where(upload)}: interrupted`).toBe(false)
      const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
      if (!CdfError.isCdfError(error)) throw new Error(`${where(upload)}: not a CdfError: ${Cause.pretty(exit.cause)}`)
      const mustFailEarly = upload.kind === "oneShotUnsized" && upload.size > settings.partSize
      if (mustFailEarly) expect(error._tag, where(upload)).toBe("FileSizeLimitError")
      else expect([...concurrentErrors], `${where(upload)}: ${error._tag}: ${error.message}`).toContain(error._tag)
      for (const file of records) {
        if (file.sha256 !== undefined) expect(file.sha256, `${where(upload)}: leftover`).toBe(sha256(upload.bytes))
      }
      results.push(error._tag)
    })
    for (const request of requests.filter((r) => r.route === "storage.put")) {
      const names = Object.keys(request.headers).map((h) => h.toLowerCase())
      expect(names, `concurrent phase: storage headers`).not.toContain("authorization")
    }
    // Retries bounded, over the whole phase.
    const perOperation = settings.retries + 2
    const bound = uploads.reduce(
      (n, u) => n + (Math.ceil(Math.max(1, u.size) / settings.partSize) + 3) * perOperation,
      0
    )
    expect(requests.length, "concurrent phase: requests").toBeLessThanOrEqual(bound)
    return { results, requests: requests.length, faults: faults.length }
  })

describe("fault soak", () => {
  it.live(
    `${UPLOADS} + ${CONCURRENT} uploads under injected faults store exactly their bytes or fail with the right typed error`,
    () =>
      Effect.gen(function*() {
        const random = makeRandom(SEED)
        const uploads = Array.from({ length: UPLOADS }, (_, i) => planUpload(random, i))
        console.log(`fault soak: seed ${SEED} (replay with SOAK_SEED=${SEED}), ${UPLOADS} uploads`)
        console.log(
          "right outcome per fault class:\n" +
            Object.entries(rightOutcome).map(([k, v]) => `  ${k.padEnd(15)} ${v}`).join("\n")
        )
        // Whatever reaches the console while uploads run (e.g. a logger outside our Logger layer) is captured too.
        const consoleMethods = ["log", "info", "warn", "error", "debug", "trace"] as const
        const originals = consoleMethods.map((m) => [m, console[m]] as const)
        for (const m of consoleMethods) {
          console[m] = (...args: Array<unknown>) => {
            captured.lines.push(args.map((a) => typeof a === "string" ? a : Cause.pretty(Cause.die(a))).join(" "))
          }
        }
        const { outcomes, concurrent } = yield* Effect.gen(function*() {
          const outcomes: Array<Outcome> = []
          for (const upload of uploads) outcomes.push(yield* runOne(upload))

          const concurrentUploads = Array.from({ length: CONCURRENT }, (_, i) => planUpload(random, UPLOADS + i))
          const concurrentFaults: Array<PlannedFault> = []
          for (let i = 0; i < 2 + Math.ceil(CONCURRENT / 5); i++) {
            const plan = random.pick<Plan>(["single", "multipart"])
            const fault = random.pick<FaultClass>(["429", "5xx", "reset", "hang", "malformed", "commitThenFail", "tokenExpiry"])
            const planned = planFault(random, fault, plan, 64 * KiB)
            const attempts = [random.int(1, CONCURRENT), random.int(1, CONCURRENT)]
            if (planned !== undefined) concurrentFaults.push({ ...planned, attempts })
          }
          const concurrent = yield* runConcurrent(concurrentUploads, concurrentFaults)
          return { outcomes, concurrent }
        }).pipe(
          Effect.ensuring(Effect.sync(() => {
            for (const [m, f] of originals) console[m] = f
          }))
        )

        // No secret in the captured logs (every level) or spans (names, attributes, events, failures).
        expect(captured.secrets.size).toBeGreaterThan(2)
        expect(captured.spans.length).toBeGreaterThan(UPLOADS)
        for (const line of [...captured.lines, ...captured.spans]) {
          for (const secret of captured.secrets) {
            expect(line.includes(secret), `a secret in a log line or span: ${line.slice(0, 200)}`).toBe(false)
          }
        }

        // Counts.
        const byClass = new Map<string, Map<string, number>>()
        for (const outcome of outcomes) {
          const classes = outcome.upload.faults.length === 0 ? ["none"] : outcome.upload.faults.map((f) => f.fault)
          for (const c of classes) {
            const row = byClass.get(c) ?? new Map<string, number>()
            row.set(outcome.result, (row.get(outcome.result) ?? 0) + 1)
            byClass.set(c, row)
          }
        }
        const total = (f: (o: Outcome) => boolean) => outcomes.filter(f).length
        const requests = outcomes.flatMap((o) => o.requests)
        console.log(
          [
            `fault soak counts (seed ${SEED}):`,
            `  uploads ${outcomes.length}: stored ${total((o) => o.result === "stored")}, failed typed ${
              total((o) => o.result !== "stored")
            }, defects 0, duplicates 0`,
            `  by content: ${
              ["bytes", "string", "factory", "oneShot", "oneShotUnsized", "file"].map((k) =>
                `${k} ${total((o) => o.upload.kind === k)}`
              ).join(", ")
            }; multipart ${total((o) => o.upload.plan === "multipart")}; with externalId ${
              total((o) => o.upload.externalId !== undefined)
            }`,
            `  faults injected ${outcomes.reduce((n, o) => n + o.upload.faults.length, 0)}; requests ${requests.length} ` +
            `(token ${requests.filter((r) => r.route === "token").length}, storage PUT ${
              requests.filter((r) => r.route === "storage.put").length
            }, 401 answered ${requests.filter((r) => r.status === 401).length})`,
            `  log lines checked ${captured.lines.length}, spans checked ${captured.spans.length}, secrets watched ${
              captured.secrets.size
            }`,
            `  concurrent phase (8 at a time): ${concurrent.results.length} uploads under ${concurrent.faults} faults, ` +
            `${concurrent.requests} requests: ${
              [...new Set(concurrent.results)].map((r) => `${r} ${concurrent.results.filter((x) => x === r).length}`)
                .join(", ")
            }`,
            "  outcome per fault class (sequential phase):",
            ...[...byClass.entries()].sort().map(([c, row]) =>
              `    ${c.padEnd(15)} ${[...row.entries()].map(([r, n]) => `${r} ${n}`).join(", ")}`
            )
          ].join("\n")
        )
        expect(outcomes.length).toBe(UPLOADS)
        expect(total((o) => o.result === "stored")).toBeGreaterThan(0)
        expect(concurrent.results.filter((r) => r === "stored").length).toBeGreaterThan(0)
      }).pipe(
        Effect.provide(soakLayer),
        Effect.provide(CaptureLogger),
        Effect.withTracer(CaptureTracer),
        Logger.withMinimumLogLevel(LogLevel.All)
      ),
    { timeout: 60_000 + (UPLOADS + CONCURRENT) * 1_000 }
  )
})
