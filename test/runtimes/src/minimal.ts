/**
 * The minimal browser upload program whose bundle size docs/benchmarks.md records (scripts/bundle-size.mjs): the
 * library over `FetchHttpClient`, a static token, a string and a Blob.
 */
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Redacted } from "effect"

const upload = (baseUrl: string, project: string, token: string) =>
  Effect.runPromise(
    Effect.all([
      Files.uploadBytes("hello from a web page", { name: "hello.txt", mimeType: "text/plain" }),
      Files.uploadBytes(new Blob(["a Blob"]), { name: "blob.bin" })
    ]).pipe(
      Effect.provide(
        Files.layer.pipe(
          Layer.provide(CdfClient.layer),
          Layer.provide(CdfConfig.layer({ baseUrl, project })),
          Layer.provide(CdfAuth.layerToken(Redacted.make(token))),
          Layer.provide(FetchHttpClient.layer)
        )
      )
    )
  )

Object.assign(globalThis, { cdfUpload: upload })
