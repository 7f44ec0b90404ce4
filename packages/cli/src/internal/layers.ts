/**
 * The library's layers as `cdf-files` builds them: from the settings (flags, environment, `.env`), or, without any
 * CDF setting, around an emulator started in this process.
 *
 * @internal
 */
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import { NodeHttpClient } from "@effect/platform-node"
import { Emulator } from "@effect-cdf/emulator"
import { Config, Effect, Layer } from "effect"
import type { Settings } from "./settings.js"

/**
 * Sets the proxy names found only in the `.env` file in `process.env`, where undici's proxy agent reads them.
 *
 * @internal
 */
const proxyFromDotEnv = (settings: Settings) =>
  Layer.effectDiscard(Effect.sync(() => {
    for (const [name, value] of settings.proxy) {
      if (process.env[name] === undefined) process.env[name] = value
    }
  }))

/**
 * `Files` configured from the settings.
 *
 * @internal
 */
export const fromSettings = (settings: Settings) => {
  const insecure = settings.allowInsecureHttp ? { allowInsecureHttp: true } : {}
  return Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(Layer.mergeAll(
      CdfConfig.layerConfig(Config.map(CdfConfig.environment, (options) => ({
        ...options,
        clientName: options.clientName ?? "cdf-files",
        ...insecure
      }))),
      CdfAuth.layerConfig(insecure)
    )),
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.provide(proxyFromDotEnv(settings)),
    Layer.provide(Layer.setConfigProvider(settings.provider))
  )
}

/**
 * `Files` talking to an emulator started in this process (on a loopback port, gone when the command ends).
 * `notice` is told its address before anything is uploaded.
 *
 * @internal
 */
export const embedded = (notice: (emulator: Emulator.Service) => Effect.Effect<void>) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const emulator = yield* Emulator.makeServer({})
    yield* notice(emulator)
    return Files.layer.pipe(
      Layer.provide(CdfClient.layer),
      Layer.provide(Layer.mergeAll(
        CdfConfig.layer({ baseUrl: emulator.baseUrl, project: emulator.project, clientName: "cdf-files" }),
        CdfAuth.layerToken(emulator.token)
      )),
      Layer.provide(NodeHttpClient.layerUndici)
    )
  }))
