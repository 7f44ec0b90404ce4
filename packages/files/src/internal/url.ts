import { Effect } from "effect"
import { InvalidConfigError } from "../CdfError.js"

/** @internal */
export const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "")
  if (host === "localhost" || host.endsWith(".localhost")) return true
  if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true
  if (/^::ffff:127\./.test(host)) return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Validates an `https://` (or, for loopback or when allowed, `http://`) URL and returns it without a trailing slash.
 *
 * @internal
 */
export const validateServiceUrl = (
  setting: string,
  raw: string,
  allowInsecureHttp: boolean
): Effect.Effect<string, InvalidConfigError> =>
  Effect.suspend(() => {
    const trimmed = raw.trim()
    let url: URL
    try {
      url = new URL(trimmed)
    } catch {
      return Effect.fail(
        new InvalidConfigError({ message: `${setting} is not a valid absolute URL`, setting })
      )
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return Effect.fail(
        new InvalidConfigError({ message: `${setting} must use https:// (got ${url.protocol}//)`, setting })
      )
    }
    if (url.username !== "" || url.password !== "") {
      return Effect.fail(
        new InvalidConfigError({ message: `${setting} must not carry credentials`, setting })
      )
    }
    if (url.search !== "" || url.hash !== "") {
      return Effect.fail(
        new InvalidConfigError({ message: `${setting} must not carry a query string or fragment`, setting })
      )
    }
    if (url.protocol === "http:" && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
      return Effect.fail(
        new InvalidConfigError({
          message:
            `${setting} uses plain http:// to the non-loopback host ${url.hostname}: use https://, or set allowInsecureHttp`,
          setting
        })
      )
    }
    return Effect.succeed(url.origin + url.pathname.replace(/\/+$/, ""))
  })
