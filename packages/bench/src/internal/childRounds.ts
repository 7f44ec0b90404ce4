/**
 * What the per-upload tools (`timeline.ts`, `profile.ts`) share: the four clients on undici and their uploaders, a
 * whole-number flag read with a clear error, and one round of a client run as a child process of the tool that
 * prints its result as one JSON line.
 */
import * as ChildProcess from "node:child_process"
import type { OursOptions } from "./ours.js"
import { script } from "./processes.js"
import type { Target } from "./protocol.js"
import type { Uploader } from "./uploader.js"

/** The clients on undici: the plain loop, the Effect-runtime floor, the bare platform client, ours. */
export const clientNames = ["undici", "floor", "platform", "ours"] as const

export type ClientName = typeof clientNames[number]

export const isClientName = (s: string): s is ClientName => (clientNames as ReadonlyArray<string>).includes(s)

/** A comma-separated list of clients (the flag `flag`), or a clear error naming the unknown one. */
export const clientList = (text: string, flag: string): Array<ClientName> => {
  const names = text.split(",").map((s) => s.trim())
  const unknown = names.find((name) => !isClientName(name))
  if (unknown !== undefined) throw new Error(`--${flag}: unknown client ${unknown}, one of ${clientNames.join(", ")}`)
  return names.filter(isClientName)
}

/** The uploader of `client`, ours with `ours` options; only that client's modules are loaded. */
export const makeUploader = async (client: ClientName, target: Target, ours: OursOptions): Promise<Uploader> => {
  switch (client) {
    case "undici":
      return (await import("./undici.js")).undici(target)
    case "floor":
      return (await import("./floor.js")).floor(target)
    case "platform":
      return (await import("./platform.js")).platform(target)
    case "ours":
      return (await import("./ours.js")).make(target, ours)
  }
}

/** The flag `name` of `flags` as a whole number of at least `min`, or a clear error. */
export const wholeFlag = (flags: Readonly<Record<string, string | undefined>>, name: string, min: number): number => {
  const value = Number(flags[name])
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} must be a whole number >= ${min}, not ${flags[name]}`)
  return value
}

/**
 * Runs `node dist/<tool>.js --child <client> --target <json> ...args` and parses the one JSON line it prints; fails
 * when it exits with another code than 0.
 */
export const runChildRound = <A>(
  tool: string,
  client: ClientName,
  target: Target,
  args: ReadonlyArray<string>
): Promise<A> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(
      process.execPath,
      [script(tool), "--child", client, "--target", JSON.stringify(target), ...args],
      { stdio: ["ignore", "pipe", "inherit"] }
    )
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8")
    })
    child.once("error", reject)
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`${tool} ${client} exited with ${code}`))
      resolve(JSON.parse(out) as A)
    })
  })
