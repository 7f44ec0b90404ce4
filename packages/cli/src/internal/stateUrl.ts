/**
 * `--state` of `sync`, `jobs` and `runner`: a SQLite file, or the `postgres://` URL of a runners' database.
 *
 * @internal
 */
import { Option, Redacted } from "effect"

/**
 * The runners' database when `state` is a `postgres://` (or `postgresql://`) URL.
 *
 * @internal
 */
export const postgresUrl = (state: string): Option.Option<Redacted.Redacted<string>> =>
  /^postgres(ql)?:\/\//i.test(state) ? Option.some(Redacted.make(state)) : Option.none()

/**
 * A database URL as it may be printed: without its password.
 *
 * @internal
 */
export const describeUrl = (url: Redacted.Redacted<string>): string => {
  try {
    const parsed = new URL(Redacted.value(url))
    if (parsed.password !== "") parsed.password = "***"
    return parsed.toString()
  } catch {
    return "postgres://… (not a valid URL)"
  }
}

