/**
 * The one-screen example of the README: the Files layer configured from the environment. `main` sets the
 * environment names for the duration of the call (CDF_URL, CDF_PROJECT, CDF_TOKEN) and runs the snippet.
 */
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { Effect, Layer } from "effect"

const upload = Files.uploadBytes("hello", { name: "hello.txt", externalId: "greeting", mimeType: "text/plain" })
//    ^? Effect<FileMetadata, CdfError, Files.Files>

// Settings and credentials from the environment: CDF_URL (or CDF_CLUSTER), CDF_PROJECT, CDF_TOKEN or IDP_* ...
const FilesLive = Files.layer.pipe(
  Layer.provide(CdfClient.layer),
  Layer.provide(CdfConfig.layerConfig()),
  Layer.provide(CdfAuth.layerConfig()),
  Layer.provideMerge(NodeTransport.layer) // undici, spooling, node:crypto sha256; honours HTTPS_PROXY / NO_PROXY
)

export const main = async (env: { baseUrl: string; project: string; token: string }) => {
  const names = ["CDF_URL", "CDF_PROJECT", "CDF_TOKEN"] as const
  const saved = names.map((name) => [name, process.env[name]] as const)
  process.env.CDF_URL = env.baseUrl
  process.env.CDF_PROJECT = env.project
  process.env.CDF_TOKEN = env.token
  try {
    const metadata = await Effect.runPromise(upload.pipe(Effect.provide(FilesLive)))
    return metadata
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}
