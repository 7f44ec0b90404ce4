/**
 * What listening for remote clients takes: a host that is not loopback needs `allowRemote`, and with it the control
 * routes need a token and the client secret is random unless given.
 *
 * @internal
 */
import { ServeError } from "@effect/platform/HttpServerError"
import * as Effect from "effect/Effect"
import { isIP } from "node:net"
import type { ServerOptions } from "../Emulator.js"
import { secret } from "./state.js"

/** `localhost`, `127.0.0.0/8`, `::1` (and `::ffff:127.x.y.z`). */
export const isLoopback = (host: string): boolean => {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase()
  if (bare === "localhost" || bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true
  const v4 = bare.startsWith("::ffff:") ? bare.slice(7) : bare
  return isIP(v4) === 4 && v4.startsWith("127.")
}

/** The options to serve with: refused for a remote host without `allowRemote`; hardened with it. */
export const check = (options: ServerOptions, host: string): Effect.Effect<ServerOptions, ServeError> => {
  if (options.allowRemote !== true) {
    if (isLoopback(host)) return Effect.succeed(options)
    const message =
      `refusing to listen on ${host}, which is not loopback: allow remote clients explicitly (allowRemote, --allow-remote)`
    // the message also on the ServeError itself (its own is empty), for callers that print `error.message`
    const fields = { cause: new Error(message), message }
    return Effect.fail(new ServeError(fields))
  }
  return Effect.succeed({
    ...options,
    protectControlRoutes: options.protectControlRoutes ?? true,
    clientSecret: options.clientSecret ?? secret()
  })
}
