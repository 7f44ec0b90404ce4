/**
 * Configuring @effect-cdf/files: settings, a static token, OAuth2 client credentials, the environment, proxies.
 * Quoted by docs/configuration.md. `main` runs against any CDF project or emulator.
 */
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { Config, ConfigProvider, Effect, Layer, Redacted } from "effect"

// Settings: base URL and project are required; everything else has a default.
export const settings = CdfConfig.layer({
  baseUrl: "https://westeurope-1.cognitedata.com",
  project: "my-project",
  clientName: "my-app", // sent as x-cdp-app
  apiTimeout: "30 seconds", // one API attempt (default 60 s)
  transferTimeout: "10 minutes", // one PUT or part attempt (default 600 s)
  deadline: "15 minutes" // a whole uploadBytes call, retries included (default: none; see resilience.md)
})

// A static token (or an Effect that returns one, run for every request).
export const staticToken = CdfAuth.layerToken(Redacted.make("eyJ..."))

// OAuth2 client credentials: cached, refreshed 30 s before expiry, one token request at a time.
export const clientCredentials = CdfAuth.layerClientCredentials({
  tokenUrl: CdfAuth.entraIdTokenUrl("my-tenant-id"),
  clientId: "my-client-id",
  clientSecret: Redacted.make("my-client-secret"),
  scopes: ["https://westeurope-1.cognitedata.com/.default"]
})

// Everything from the environment (the names cognite-toolkit's .env uses).
export const fromEnvironment = Files.layer.pipe(
  Layer.provide(CdfClient.layer),
  Layer.provide(CdfConfig.layerConfig()),
  Layer.provide(CdfAuth.layerConfig()),
  Layer.provideMerge(NodeTransport.layer)
)

// The environment plus settings of your own: layerConfig takes any Config of the options.
export const fromEnvironmentWithTimeouts = CdfConfig.layerConfig(
  Config.map(CdfConfig.environment, (options) => ({ ...options, apiTimeout: "20 seconds" }))
)

// An explicit proxy (else HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read when the layer is built).
export const proxied = NodeTransport.layerWith({
  httpsProxy: "http://proxy.internal:3128",
  noProxy: "localhost,127.0.0.1,.internal"
})

export const main = async (env: { baseUrl: string; project: string; token: string }) => {
  // The environment layer, fed from a map here instead of process.env.
  const environment = ConfigProvider.fromMap(
    new Map([
      ["CDF_URL", env.baseUrl],
      ["CDF_PROJECT", env.project],
      ["CDF_CLIENT_NAME", "configuration-example"],
      ["CDF_TOKEN", env.token]
    ])
  )
  const layer = fromEnvironment.pipe(Layer.provide(Layer.setConfigProvider(environment)))
  return Effect.runPromise(
    Files.uploadBytes("configured from the environment", { name: "configured.txt" }).pipe(Effect.provide(layer))
  )
}
