/**
 * The direct Node path of the hot routes (internal/fastPath.ts) answers exactly as the Effect path does: the same
 * requests, sent to an emulator with no fault (direct path) and to one where a fault that changes nothing (a 0 ms
 * delay) sends every request of those routes the Effect way, give the same statuses, headers in the same order,
 * bodies, request log and PUT records.
 */
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { request } from "node:http"

interface Raw {
  readonly status: number
  readonly rawHeaders: ReadonlyArray<string>
  readonly body: string
}

const send = (
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array
): Promise<Raw> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, "content-length": String(body.length) } }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString("utf8")
        }))
    })
    req.on("error", reject)
    req.end(body)
  })

/** Whatever differs between two emulators on its own: ports, ids, secrets, times. */
const normalize = (text: string) =>
  text
    .replace(/127\.0\.0\.1:\d+/g, "ORIGIN")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "UUID")
    .replace(/sig=[A-Za-z0-9_-]+/g, "sig=SIG")
    .replace(/"(createdTime|lastUpdatedTime|uploadedTime)":\d+/g, "\"$1\":TIME")

const headerPairs = (raw: Raw) => {
  const pairs: Array<string> = []
  for (let i = 0; i < raw.rawHeaders.length; i += 2) {
    const name = raw.rawHeaders[i].toLowerCase()
    pairs.push(name === "date" ? "date" : normalize(`${name}: ${raw.rawHeaders[i + 1]}`))
  }
  return pairs
}

/** The same conversation with an emulator: creates, PUTs and their failures. */
const conversation = (emulator: Emulator.Service) =>
  Effect.promise(async () => {
    const files = `${emulator.baseUrl}/api/v1/projects/${emulator.project}/files`
    const auth = { authorization: `Bearer ${Redacted.value(emulator.token)}`, "content-type": "application/json" }
    const answers: Array<Raw> = []
    const post = async (url: string, body: string, headers: Record<string, string> = auth) => {
      const answer = await send(url, "POST", headers, body)
      answers.push(answer)
      return answer
    }
    const put = async (url: string, body: Uint8Array, headers: Record<string, string> = {}) => {
      answers.push(await send(url, "PUT", headers, body))
    }
    const created = await post(files, JSON.stringify({ name: "a.bin", externalId: "a" }))
    const uploadUrl = JSON.parse(created.body).uploadUrl as string
    await put(uploadUrl, new Uint8Array(5000).fill(7), { "content-type": "application/octet-stream", "x-cdp-app": "x" })
    await put(uploadUrl, new Uint8Array(10))
    await put(uploadUrl.replace(/sig=[^&]+/, "sig=wrong"), new Uint8Array(10))
    await put(uploadUrl.replace(/\?.*/, ""), new Uint8Array(10))
    await put(uploadUrl, new Uint8Array(3000))
    await post(files, JSON.stringify({ name: "a.bin", externalId: "a" }))
    await post(`${files}?overwrite=true`, JSON.stringify({ name: "b.bin", externalId: "a", metadata: { k: "v" } }))
    await post(`${files}/?overwrite=maybe`, JSON.stringify({ name: "c" }))
    await post(files, JSON.stringify({ name: "c", unknown: 1 }))
    await post(files, "{\"name\":")
    await post(files, JSON.stringify({ name: "" }))
    await post(files.replace(emulator.project, "other"), JSON.stringify({ name: "c" }))
    await post(files, JSON.stringify({ name: "c" }), { "content-type": "application/json" })
    await post(files, JSON.stringify({ name: "c" }), { ...auth, authorization: "Bearer nope" })
    await post(files, JSON.stringify({ name: "d" }), { ...auth, "content-encoding": "br" })
    return answers.map((answer) => ({ status: answer.status, headers: headerPairs(answer), body: normalize(answer.body) }))
  }).pipe(
    Effect.zip(Effect.all({ log: emulator.requests, files: emulator.files })),
    Effect.map(([answers, { files, log }]) => ({
      answers,
      log: normalize(JSON.stringify(log)),
      files: normalize(JSON.stringify(files))
    }))
  )

describe("the direct path of POST files and single PUTs", () => {
  it.live("answers, logs and records exactly as the Effect path", () =>
    Effect.gen(function*() {
      const options = { singlePutLimit: 4096 }
      const direct = yield* Emulator.makeServer(options)
      const viaEffect = yield* Emulator.makeServer({
        ...options,
        faults: [
          { route: "files.create", action: { _tag: "Delay", millis: 0 } },
          { route: "storage.put", action: { _tag: "Delay", millis: 0 } }
        ]
      })
      const a = yield* conversation(direct)
      const b = yield* conversation(viaEffect)
      expect(a.answers.map((answer) => answer.status)).toEqual([
        201, 413, 201, 403, 403, 201, 409, 201, 400, 400, 400, 201, 403, 401, 401, 400
      ])
      expect(a.answers).toEqual(b.answers)
      expect(a.log).toEqual(b.log)
      expect(a.files).toEqual(b.files)
    }).pipe(Effect.scoped))
})
