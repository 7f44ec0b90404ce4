import * as Command from "@effect/platform/Command"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { builtBin } from "./utils.js"

const Info = Schema.parseJson(Schema.Struct({
  baseUrl: Schema.String,
  project: Schema.String,
  token: Schema.String,
  tokenUrl: Schema.String,
  clientId: Schema.String,
  clientSecret: Schema.String
}))

describe("the cdf-emulator bin", () => {
  it.scopedLive("--port 0 --json prints one JSON line; its token works; SIGINT stops it with exit code 0", () =>
    Effect.gen(function*() {
      const process_ = yield* Command.start(Command.make("node", builtBin(), "--port", "0", "--json"))
      const line = yield* process_.stdout.pipe(Stream.decodeText(), Stream.splitLines, Stream.runHead)
      const info = yield* Schema.decodeUnknown(Info)(Option.getOrThrow(line))
      expect(info.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(info.tokenUrl).toBe(`${info.baseUrl}/oauth2/token`)
      const client = yield* HttpClient.HttpClient
      const response = yield* client.execute(
        HttpClientRequest.post(`${info.baseUrl}/api/v1/projects/${info.project}/files`).pipe(
          HttpClientRequest.bearerToken(info.token),
          HttpClientRequest.bodyUnsafeJson({ name: "from-bin.txt" })
        )
      )
      expect(response.status).toBe(201)
      yield* process_.kill("SIGINT")
      expect(yield* process_.exitCode).toBe(0)
    }).pipe(Effect.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici))), 60_000)

  it.scopedLive("--cors-origin allows that origin only; with --no-cors too it is a usage error (exit 2)", () =>
    Effect.gen(function*() {
      const process_ = yield* Command.start(
        Command.make("node", builtBin(), "--port", "0", "--json", "--cors-origin", "https://app.example.com")
      )
      const line = yield* process_.stdout.pipe(Stream.decodeText(), Stream.splitLines, Stream.runHead)
      const info = yield* Schema.decodeUnknown(Info)(Option.getOrThrow(line))
      const client = yield* HttpClient.HttpClient
      const preflight = (origin: string) =>
        client.execute(
          HttpClientRequest.make("OPTIONS")(info.tokenUrl).pipe(
            HttpClientRequest.setHeaders({ origin, "access-control-request-method": "POST" })
          )
        )
      expect((yield* preflight("https://app.example.com")).headers["access-control-allow-origin"]).toBe(
        "https://app.example.com"
      )
      expect((yield* preflight("http://127.0.0.1:5173")).headers["access-control-allow-origin"]).toBeUndefined()
      yield* process_.kill("SIGINT")
      expect(yield* process_.exitCode).toBe(0)
      const both = yield* Command.exitCode(Command.make("node", builtBin(), "--no-cors", "--cors-origin", "http://x.test"))
      expect(both).toBe(2)
    }).pipe(Effect.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici))), 60_000)

  it.scopedLive("--host 0.0.0.0 without --allow-remote: exit code 1, the error names the flag, nothing listens", () =>
    Effect.gen(function*() {
      const process_ = yield* Command.start(Command.make("node", builtBin(), "--host", "0.0.0.0", "--port", "0", "--json"))
      const [stdout, stderr, exitCode] = yield* Effect.all([
        process_.stdout.pipe(Stream.decodeText(), Stream.mkString),
        process_.stderr.pipe(Stream.decodeText(), Stream.mkString),
        process_.exitCode
      ], { concurrency: "unbounded" })
      expect(exitCode).toBe(1)
      expect(stdout).toBe("")
      expect(stderr).toContain("not loopback")
      expect(stderr).toContain("--allow-remote")
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)

  it.scopedLive("--allow-remote: a random client secret printed once, the control routes need the token", () =>
    Effect.gen(function*() {
      const process_ = yield* Command.start(Command.make("node", builtBin(), "--port", "0", "--json", "--allow-remote"))
      const line = yield* process_.stdout.pipe(Stream.decodeText(), Stream.splitLines, Stream.runHead)
      const printed = Option.getOrThrow(line)
      const info = yield* Schema.decodeUnknown(Info)(printed)
      expect(info.clientSecret).not.toBe("emulator-secret")
      expect(info.clientSecret.length).toBeGreaterThanOrEqual(32)
      expect(printed.split(info.clientSecret)).toHaveLength(2)
      const client = yield* HttpClient.HttpClient
      const control = (token?: string) =>
        client.execute(
          HttpClientRequest.get(`${info.baseUrl}/_emulator/files`).pipe(
            token === undefined ? (r) => r : HttpClientRequest.bearerToken(token)
          )
        )
      expect((yield* control()).status).toBe(401)
      expect((yield* control("not-a-token")).status).toBe(401)
      expect((yield* control(info.token)).status).toBe(200)
      const tokenWith = (secret: string) =>
        client.execute(
          HttpClientRequest.post(info.tokenUrl).pipe(
            HttpClientRequest.bodyUrlParams({
              grant_type: "client_credentials",
              client_id: info.clientId,
              client_secret: secret
            })
          )
        )
      expect((yield* tokenWith("emulator-secret")).status).toBe(401)
      expect((yield* tokenWith(info.clientSecret)).status).toBe(200)
      yield* process_.kill("SIGINT")
      expect(yield* process_.exitCode).toBe(0)
    }).pipe(Effect.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici))), 60_000)
})
