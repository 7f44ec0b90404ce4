/**
 * Resilience of @effect-cdf/files: the defaults, and overriding schedules and timeouts. Quoted by
 * docs/resilience.md. `main` runs against any CDF project or emulator.
 */
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { Console, Effect, Layer, Redacted, Schedule } from "effect"

// Retry schedules are plain Effect Schedules, given to CdfConfig.layer (never read from the environment).
export const patientSettings = (baseUrl: string, project: string) =>
  CdfConfig.layer({
    baseUrl,
    project,
    // API requests: 5 retries, jittered exponential from 1 s
    apiRetrySchedule: Schedule.exponential("1 second").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(5))),
    // each PUT or part on its own: 10 retries, at most every 5 s, for at most 10 minutes
    transferRetrySchedule: Schedule.exponential("500 millis").pipe(
      Schedule.union(Schedule.spaced("5 seconds")),
      Schedule.intersect(Schedule.recurs(10)),
      Schedule.upTo("10 minutes")
    ),
    maxRetryDelay: "20 seconds", // no backoff delay longer than this
    maxRetryAfter: "2 minutes", // a Retry-After (on 429 or 503) honoured up to this
    apiTimeout: "30 seconds",
    transferTimeout: "20 minutes",
    stallTimeout: "2 minutes",
    deadline: "1 hour"
  })

// No retries at all: a schedule that never recurs.
export const noRetries = (baseUrl: string, project: string) =>
  CdfConfig.layer({
    baseUrl,
    project,
    apiRetrySchedule: Schedule.recurs(0),
    transferRetrySchedule: Schedule.recurs(0)
  })

// What a failure looks like: every error is tagged; react by tag.
export const uploadOrExplain = Files.uploadBytes("resilient", { name: "resilient.txt" }).pipe(
  Effect.map((file) => `uploaded file ${file.id}`),
  Effect.catchTags({
    CdfTimeoutError: (e) => Effect.succeed(`timed out (${e.kind} after ${e.timeoutMillis} ms)`),
    CdfTransportError: (e) => Effect.succeed(`network (${e.phase}): ${e.message}`),
    UploadError: (e) =>
      Effect.succeed(
        `bytes not stored after ${e.attempts ?? 1} attempt(s)` +
          (e.cleanup?.deleted === true ? `; file ${e.cleanup.fileId} was deleted` : "")
      )
  }),
  Effect.tap(Console.log)
)

export const main = async (env: { baseUrl: string; project: string; token: string }) => {
  const layer = Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(patientSettings(env.baseUrl, env.project)),
    Layer.provide(CdfAuth.layerToken(Redacted.make(env.token))),
    Layer.provideMerge(NodeTransport.layer)
  )
  return Effect.runPromise(uploadOrExplain.pipe(Effect.provide(layer)))
}
