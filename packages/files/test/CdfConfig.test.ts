import { CdfConfig } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Option } from "effect"

const fromEnv = (env: Record<string, string>) =>
  Effect.gen(function*() {
    return yield* CdfConfig.CdfConfig
  }).pipe(
    Effect.provide(CdfConfig.layerConfig().pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
    ))
  )

describe("CdfConfig", () => {
  it.effect("fills in the documented defaults", () =>
    Effect.gen(function*() {
      const config = yield* CdfConfig.make({ baseUrl: "https://api.cognitedata.com/", project: "p" })
      expect(config.baseUrl).toBe("https://api.cognitedata.com")
      expect(config.clientName).toBe("effect-cdf")
      expect(config.apiVersion).toBe("20230101")
      expect(Duration.toMillis(config.apiTimeout)).toBe(60_000)
      expect(Duration.toMillis(config.transferTimeout)).toBe(600_000)
      expect(Duration.toMillis(config.maxRetryDelay)).toBe(30_000)
      expect(Option.isNone(config.deadline)).toBe(true)
      expect(config.partConcurrency).toBe(3)
      expect(config.partSize).toBe(50 * 1024 * 1024)
      expect(config.checksum).toBe(false)
    }))

  it.effect("maxRetryAfter: 30 s by default, the configured maxRetryDelay when not given, its own when given", () =>
    Effect.gen(function*() {
      const base = { baseUrl: "https://api.cognitedata.com", project: "p" }
      expect(Duration.toMillis((yield* CdfConfig.make(base)).maxRetryAfter)).toBe(30_000)
      const short = yield* CdfConfig.make({ ...base, maxRetryDelay: "2 seconds" })
      expect([Duration.toMillis(short.maxRetryDelay), Duration.toMillis(short.maxRetryAfter)]).toEqual([2000, 2000])
      const both = yield* CdfConfig.make({ ...base, maxRetryDelay: "1 second", maxRetryAfter: "20 seconds" })
      expect([Duration.toMillis(both.maxRetryDelay), Duration.toMillis(both.maxRetryAfter)]).toEqual([1000, 20_000])
      const invalid = yield* Effect.flip(CdfConfig.make({ ...base, maxRetryAfter: "-1 seconds" }))
      expect(invalid.setting).toBe("maxRetryAfter")
    }))

  it.effect("reads CDF_CLUSTER, CDF_PROJECT and CDF_CLIENT_NAME from the environment", () =>
    Effect.gen(function*() {
      const config = yield* fromEnv({ CDF_CLUSTER: "westeurope-1", CDF_PROJECT: "proj", CDF_CLIENT_NAME: "app" })
      expect(config.baseUrl).toBe("https://westeurope-1.cognitedata.com")
      expect(config.project).toBe("proj")
      expect(config.clientName).toBe("app")
    }))

  it.effect("prefers CDF_URL over CDF_CLUSTER", () =>
    Effect.gen(function*() {
      const config = yield* fromEnv({ CDF_URL: "https://bluefield.cognitedata.com", CDF_CLUSTER: "x", CDF_PROJECT: "p" })
      expect(config.baseUrl).toBe("https://bluefield.cognitedata.com")
    }))

  it.effect("refuses plain http:// to a non-loopback host, naming the setting", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(CdfConfig.make({ baseUrl: "http://cdf.example.com", project: "p" }))
      expect(error._tag).toBe("InvalidConfigError")
      expect(error.setting).toBe("baseUrl")
      const fromEnvError = yield* Effect.flip(fromEnv({ CDF_URL: "http://cdf.example.com", CDF_PROJECT: "p" }))
      expect(fromEnvError._tag).toBe("InvalidConfigError")
    }))

  it.effect("accepts http:// to loopback, and elsewhere with allowInsecureHttp", () =>
    Effect.gen(function*() {
      for (const baseUrl of ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9000"]) {
        const config = yield* CdfConfig.make({ baseUrl, project: "p" })
        expect(config.baseUrl).toBe(baseUrl)
      }
      const insecure = yield* CdfConfig.make({ baseUrl: "http://emulator:4000", project: "p", allowInsecureHttp: true })
      expect(insecure.baseUrl).toBe("http://emulator:4000")
    }))

  it.effect("refuses malformed URLs, query strings and non-http schemes", () =>
    Effect.gen(function*() {
      for (const baseUrl of ["not a url", "ftp://x.example.com", "https://x.example.com/?a=1", "https://u:p@x.com"]) {
        const error = yield* Effect.flip(CdfConfig.make({ baseUrl, project: "p" }))
        expect(error._tag).toBe("InvalidConfigError")
        expect(error.setting).toBe("baseUrl")
      }
    }))

  it.effect("refuses an empty project and non-positive settings", () =>
    Effect.gen(function*() {
      const noProject = yield* Effect.flip(CdfConfig.make({ baseUrl: "https://a.example.com", project: " " }))
      expect(noProject.setting).toBe("project")
      expect(noProject.message).toBe("project must be a CDF project name, not empty")
      for (const project of ["emu lator", "emulator/", "../emulator", "a?b", "a#b"]) {
        const bad = yield* Effect.flip(CdfConfig.make({ baseUrl: "https://a.example.com", project }))
        expect([bad.setting, bad.message]).toEqual([
          "project",
          "project must be a CDF project name, without spaces, '/', '?' or '#'"
        ])
      }
      const badParts = yield* Effect.flip(
        CdfConfig.make({ baseUrl: "https://a.example.com", project: "p", partConcurrency: 0 })
      )
      expect(badParts.setting).toBe("partConcurrency")
      const badTimeout = yield* Effect.flip(
        CdfConfig.make({ baseUrl: "https://a.example.com", project: "p", apiTimeout: "0 millis" })
      )
      expect(badTimeout.setting).toBe("apiTimeout")
    }))

  it.effect("a missing CDF_PROJECT is a ConfigError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromEnv({ CDF_URL: "https://x.cognitedata.com" }))
      expect(error._tag).not.toBe("InvalidConfigError")
      expect(String(error)).toContain("CDF_PROJECT")
    }))
})
