/**
 * Getting started with @effect-cdf/files: build the layers, upload, read the typed error of a failure.
 * Quoted by docs/getting-started.md. `main` runs against any CDF project or emulator.
 */
import { CdfAuth, CdfClient, CdfConfig, CdfError, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { Cause, Console, Effect, Exit, Layer, Redacted, Runtime } from "effect"

// 1. The program: an Effect that needs the Files service.
export const upload = Files.uploadBytes("hello, CDF", {
  name: "hello.txt",
  externalId: "getting-started-hello",
  mimeType: "text/plain",
  overwrite: true
}).pipe(Effect.tap((file) => Console.log(`uploaded ${file.name} as file ${file.id}`)))

// 2. The layers: Files on CdfClient, on settings, auth and the Node stack (transport, spooler, sha256), merged into
//    the result so that uploads find the spooler and the sha256.
export const filesLayer = (env: { baseUrl: string; project: string; token: string }) =>
  Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(CdfConfig.layer({ baseUrl: env.baseUrl, project: env.project, clientName: "getting-started" })),
    Layer.provide(CdfAuth.layerToken(Redacted.make(env.token))),
    Layer.provideMerge(NodeTransport.layer) // undici, spooling, node:crypto sha256; honours HTTPS_PROXY / NO_PROXY
  )

// 3. The same layers from the environment (CDF_URL or CDF_CLUSTER, CDF_PROJECT, CDF_TOKEN or IDP_* ...).
export const filesLayerFromEnvironment = Files.layer.pipe(
  Layer.provide(CdfClient.layer),
  Layer.provide(CdfConfig.layerConfig()),
  Layer.provide(CdfAuth.layerConfig()),
  Layer.provideMerge(NodeTransport.layer)
)

export const main = async (env: { baseUrl: string; project: string; token: string }) => {
  const layer = filesLayer(env)

  // Run it: Effect.runPromise resolves with the FileMetadata.
  const file = await Effect.runPromise(upload.pipe(Effect.provide(layer)))

  // A failure rejects with a FiberFailure wrapping the typed error...
  const conflict = Files.uploadBytes("again", { name: "hello.txt", externalId: "getting-started-hello" })
  try {
    await Effect.runPromise(conflict.pipe(Effect.provide(layer)))
  } catch (rejection) {
    if (Runtime.isFiberFailure(rejection)) {
      // ...and Cause.squash gives the error back, with its _tag and fields.
      const error = Cause.squash(rejection[Runtime.FiberFailureCauseId])
      if (CdfError.isCdfError(error) && error._tag === "CdfApiError") {
        console.log(`${error._tag} ${error.status}, x-request-id ${error.requestId}, duplicated ${JSON.stringify(error.duplicated)}`)
      }
    }
  }

  // Or skip the exception: runPromiseExit gives an Exit to inspect.
  const exit = await Effect.runPromiseExit(conflict.pipe(Effect.provide(layer)))
  if (Exit.isFailure(exit)) {
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "Some") console.log(`failed with ${failure.value._tag}`)
  }

  // Or handle it inside the Effect, by tag.
  const handled = await Effect.runPromise(
    conflict.pipe(
      Effect.map((f) => `uploaded ${f.id}`),
      Effect.catchTag("CdfApiError", (e) => Effect.succeed(`already there (${e.status})`)),
      Effect.provide(layer)
    )
  )
  return { file, handled }
}
