import { NodeContext } from "@effect/platform-node"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { ConnectionFlags } from "../src/internal/settings.js"
import { resolve } from "../src/internal/settings.js"

const noFlags: ConnectionFlags = {
  baseUrl: Option.none(),
  cluster: Option.none(),
  project: Option.none(),
  clientName: Option.none(),
  token: Option.none(),
  loginFlow: Option.none(),
  tokenUrl: Option.none(),
  tenantId: Option.none(),
  clientId: Option.none(),
  clientSecret: Option.none(),
  scopes: Option.none(),
  audience: Option.none(),
  allowInsecureHttp: false,
  envFile: Option.none()
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-settings-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const dotenv = path.join(dir, "settings.env")
fs.writeFileSync(
  dotenv,
  "# a toolkit .env\nCDF_URL=https://from-dotenv.example\nCDF_PROJECT=dotenv-project\nCDF_TOKEN='dotenv-token'\nHTTPS_PROXY=http://proxy.example:3128\n"
)

const env = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))
const read = (provider: ConfigProvider.ConfigProvider, name: string) =>
  Config.string(name).pipe(Effect.withConfigProvider(provider), Effect.option, Effect.map(Option.getOrUndefined))

describe("settings: flags, then the environment, then .env", () => {
  it.effect("nothing set anywhere: no CDF settings (the embedded emulator is used)", () =>
    Effect.gen(function*() {
      const settings = yield* resolve(noFlags, env({ HOME: "/home/x", PATH: "/bin" }))
      expect(settings.hasCdfSettings).toBe(false)
      expect(settings.proxy.size).toBe(0)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("flags win over the environment, which wins over the .env file", () =>
    Effect.gen(function*() {
      const settings = yield* resolve(
        { ...noFlags, project: Option.some("flag-project"), envFile: Option.some(dotenv) },
        env({ CDF_TOKEN: "env-token", CDF_PROJECT: "env-project" })
      )
      expect(settings.hasCdfSettings).toBe(true)
      expect(settings.envFile).toBe(dotenv)
      expect(yield* read(settings.provider, "CDF_PROJECT")).toBe("flag-project")
      expect(yield* read(settings.provider, "CDF_TOKEN")).toBe("env-token")
      expect(yield* read(settings.provider, "CDF_URL")).toBe("https://from-dotenv.example")
      expect(settings.proxy.get("HTTPS_PROXY")).toBe("http://proxy.example:3128")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("secret flags reach the settings as their environment names", () =>
    Effect.gen(function*() {
      const settings = yield* resolve(
        { ...noFlags, token: Option.some(Redacted.make("flag-token")), clientSecret: Option.some(Redacted.make("s")) },
        env({})
      )
      expect(settings.hasCdfSettings).toBe(true)
      expect(yield* read(settings.provider, "CDF_TOKEN")).toBe("flag-token")
      expect(yield* read(settings.provider, "IDP_CLIENT_SECRET")).toBe("s")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("an empty value does not count as a setting; a missing --dotenv file is an error", () =>
    Effect.gen(function*() {
      const blank = yield* resolve(noFlags, env({ CDF_PROJECT: "  " }))
      expect(blank.hasCdfSettings).toBe(false)
      const missing = yield* Effect.flip(resolve({ ...noFlags, envFile: Option.some(path.join(dir, "nope.env")) }, env({})))
      expect(missing).toContain("does not exist")
    }).pipe(Effect.provide(NodeContext.layer)))
})
