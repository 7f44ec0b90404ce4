/**
 * Handling the errors of @effect-cdf/files. Quoted by docs/errors.md.
 * `main` runs against any CDF project or emulator: `main({ baseUrl, project, token })`.
 */
import { CdfAuth, CdfClient, CdfConfig, CdfError, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { Cause, Console, Effect, Either, Exit, Layer, Option, Redacted, Runtime } from "effect"
import { randomUUID } from "node:crypto"

// [one-tag]
// One error, by its tag: a bad option is refused before any request is sent.
export const uploadNote = (name: string, metadata: Record<string, string>) =>
  Files.uploadBytes("hello", { name, metadata }).pipe(
    Effect.map((file) => `uploaded file ${file.id}`),
    Effect.catchTag("InvalidFileMetadataError", (error) =>
      Effect.succeed(`not sent: ${error.option} must be ${error.limit}`))
  )
//    ^? Effect<string, Exclude<CdfError, InvalidFileMetadataError>, Files>
// [/one-tag]

// [many-tags]
// Several errors, each its own way. What is not handled stays in the error channel, typed.
export const uploadOnce = (externalId: string) =>
  Files.uploadBytes("report v1", { name: "report.csv", externalId, mimeType: "text/csv" }).pipe(
    Effect.catchTags({
      // 409 with `duplicated`: the externalId is taken (and `overwrite` was not set). Use the existing record.
      CdfApiError: (error) =>
        error.status === 409 && error.duplicated !== undefined
          ? Files.retrieve({ externalId })
          : Effect.fail(error),
      // The bytes did not reach storage after the retries; say which part and how many attempts.
      UploadError: (error) =>
        Console.error(`upload failed (${error.reason}, part ${error.part ?? "-"}, ${error.attempts ?? 0} attempts)`)
          .pipe(Effect.zipRight(Effect.fail(error)))
    })
  )
// [/many-tags]

// [cleanup]
// When a call fails after it created a new record, it deletes that record (best effort) and says so in `cleanup`.
export const reportCleanup = <A, R>(effect: Effect.Effect<A, CdfError.CdfError, R>) =>
  Effect.tapError(effect, (error) =>
    error.cleanup === undefined
      ? Effect.void
      : error.cleanup.deleted
      ? Console.log(`file ${error.cleanup.fileId} created by this call was deleted`)
      : Console.warn(`file ${error.cleanup.fileId} is left over: ${error.cleanup.reason ?? "unknown reason"}`))
// [/cleanup]

// [advice]
// Every error, exhaustively: the compiler tells you when a case is missing.
export const advice = (error: CdfError.CdfError): string => {
  switch (error._tag) {
    case "InvalidFileMetadataError":
      return `fix the option ${error.option}: it must be ${error.limit}`
    case "InvalidContentError":
      return error.reason === "Chunk"
        ? `chunk ${error.chunk} of the content (${error.content}) is ${error.found}: yield Uint8Array chunks`
        : `fix the content: ${error.message}`
    case "FileSizeLimitError":
      return `${error.size} bytes is over the ${error.path} limit of ${error.limit} bytes`
    case "InvalidConfigError":
      return `fix the setting ${error.setting}: ${error.message}`
    case "AuthError":
      return error.reason === "TokenRequest"
        ? `the identity provider refused the token request (${error.code ?? "no code"})`
        : `CDF answered ${error.status}: check the token's project and capabilities (request ${error.requestId})`
    case "CdfApiError":
      return `CDF answered ${error.status} (code ${error.code}, request ${error.requestId}): ${error.message}`
    case "UploadError":
      return error.reason === "Content"
        ? `the content could not be read (${error.code ?? "no code"}): ${error.message}`
        : `storage did not take the bytes (${error.reason}); safe to call again`
    case "DownloadError":
      return `the bytes could not be read back (${error.reason}, ${error.received ?? 0} bytes received)`
    case "CdfTransportError":
      return error.phase === "connect" ? "the API could not be reached" : "the connection broke during a request"
    case "CdfTimeoutError":
      return `the ${error.kind} timeout of ${error.timeoutMillis} ms passed`
    case "CdfDecodeError":
      return `an answer was not what the API specifies (status ${error.status})`
  }
}
// [/advice]

// [layers]
const filesLayer = (env: { baseUrl: string; project: string; token: string }) =>
  Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(CdfConfig.layer({ baseUrl: env.baseUrl, project: env.project })),
    Layer.provide(CdfAuth.layerToken(Redacted.make(env.token))),
    Layer.provideMerge(NodeTransport.layer)
  )
// [/layers]

export const main = async (env: { baseUrl: string; project: string; token: string }) => {
  const live = filesLayer(env)
  const run = <A>(effect: Effect.Effect<A, CdfError.CdfError, Files.Files>) =>
    Effect.provide(effect, live)
  const externalId = `errors-example-${randomUUID()}`

  // Handled inside the Effect: these Promises resolve.
  const note = await Effect.runPromise(run(uploadNote("notes.txt", { ["k".repeat(200)]: "v" })))
  const first = await Effect.runPromise(run(reportCleanup(uploadOnce(externalId))))
  const again = await Effect.runPromise(run(uploadOnce(externalId)))

  // [run-promise]
  // Effect.runPromise rejects with a FiberFailure that wraps the error: take the error back out of its cause.
  const tooLong = Files.uploadBytes("x", { name: "n".repeat(300) })
  let fromRejection = ""
  try {
    await Effect.runPromise(run(tooLong))
  } catch (thrown) {
    const error = Runtime.isFiberFailure(thrown) ? Cause.squash(thrown[Runtime.FiberFailureCauseId]) : thrown
    if (CdfError.isCdfError(error)) fromRejection = advice(error)
    else throw thrown
  }

  // Or never reject for a failure: runPromiseExit gives an Exit, whose cause holds the typed error.
  const exit = await Effect.runPromiseExit(run(tooLong))
  const fromExit = Exit.isFailure(exit)
    ? Option.match(Cause.failureOption(exit.cause), { onNone: () => "interrupted or a defect", onSome: advice })
    : "uploaded"

  // Or turn the error into a value before running: Effect.either.
  const either = await Effect.runPromise(run(Effect.either(tooLong)))
  const fromEither = Either.isLeft(either) ? either.left._tag : "uploaded"
  // [/run-promise]

  return { note, first: first.id, again: again.id, fromRejection, fromExit, fromEither }
}
