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
 *
 * The plan of the uploads and of their faults, and what each may end with, is in `soak/plan.ts`; what is captured to
 * look for secrets in, in `soak/capture.ts`.
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, CdfError } from "@effect-cdf/files"
import * as Files from "@effect-cdf/files/Files"
import * as HttpClient from "@effect/platform/HttpClient"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { appendFileSync } from "node:fs"
import { CaptureLogger, captured, CaptureTracer, recordSecrets } from "./soak/capture.js"
import {
  expectations,
  type FaultClass,
  KiB,
  makeRandom,
  type Plan,
  planFault,
  type PlannedFault,
  planUpload,
  retrySchedule,
  rightOutcome,
  settings,
  sha256,
  type Upload,
  uploadOf
} from "./soak/plan.js"

const UPLOADS = Number(process.env["SOAK_UPLOADS"] ?? 60)
const CONCURRENT = Number(process.env["SOAK_CONCURRENT"] ?? 40)
const SEED = process.env["SOAK_SEED"] !== undefined && process.env["SOAK_SEED"] !== ""
  ? Number(process.env["SOAK_SEED"]) >>> 0
  : (Date.now() ^ (process.pid << 16)) >>> 0

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
        const uploads = Array.from({ length: UPLOADS }, (_, i) => planUpload(random, i, SEED))
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

          const concurrentUploads = Array.from({ length: CONCURRENT }, (_, i) => planUpload(random, UPLOADS + i, SEED))
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
