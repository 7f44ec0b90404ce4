/**
 * Test wiring of the client engineer's tests: the client stack over the emulator, in memory or on a real port.
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import * as CdfTestEmulator from "@effect-cdf/files/CdfTestEmulator"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import * as HttpClient from "@effect/platform/HttpClient"
import { Effect, Layer, Redacted } from "effect"

export type ConfigOverrides = Partial<Omit<CdfConfig.Options, "baseUrl" | "project">>

/** CdfClient (and CdfConfig) over whatever Emulator + HttpClient are provided, with the emulator's static token. */
export const clientOver = (overrides: ConfigOverrides = {}, auth?: Layer.Layer<CdfAuth.CdfAuth, never, Emulator.Emulator | HttpClient.HttpClient>) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const config = CdfConfig.layer({
      baseUrl: emulator.baseUrl,
      project: emulator.project,
      allowInsecureHttp: true,
      ...overrides
    })
    return CdfClient.layer.pipe(
      Layer.provideMerge(config),
      Layer.provide(auth ?? CdfAuth.layerToken(emulator.token))
    )
  }))

/** Files + CdfClient + Emulator + HttpClient, all in memory (the helper users have: `CdfTestEmulator.layer`). */
export const inMemory = (
  options: Emulator.Options = {},
  overrides: ConfigOverrides = {},
  auth?: Layer.Layer<CdfAuth.CdfAuth, never, Emulator.Emulator | HttpClient.HttpClient>
) => CdfTestEmulator.layer({ emulator: options, config: overrides, auth })

/**
 * Files + CdfClient + Emulator on a real loopback port, over undici (`NodeTransport.layer`, as users run it) or the
 * given transport.
 */
export const onPort = (
  options: Emulator.ServerOptions = {},
  overrides: ConfigOverrides = {},
  transport: Layer.Layer<HttpClient.HttpClient> = NodeTransport.layer
) =>
  CdfTestEmulator.layerOver({ config: overrides }).pipe(
    Layer.provideMerge(Layer.orDie(Emulator.layerServer(options))),
    Layer.provideMerge(transport)
  )

/** Client-credentials auth against the emulator's own identity provider. */
export const emulatorClientCredentials = Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
  CdfAuth.layerClientCredentials({
    tokenUrl: emulator.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    scopes: ["s"],
    allowInsecureHttp: true
  }).pipe(Layer.orDie)))

/**
 * Files + CdfClient over a scripted `HttpClient` (a test's own API and storage): base URL `http://api.test`, project
 * `p`, the static token `token-secret`.
 */
export const overHttpClient = (client: HttpClient.HttpClient, overrides: ConfigOverrides = {}) =>
  Files.layer.pipe(
    Layer.provideMerge(CdfClient.layer),
    Layer.provide(CdfConfig.layer({ baseUrl: "http://api.test", project: "p", allowInsecureHttp: true, ...overrides })),
    Layer.provide(CdfAuth.layerToken(Redacted.make("token-secret"))),
    Layer.provide(Layer.succeed(HttpClient.HttpClient, client))
  )
