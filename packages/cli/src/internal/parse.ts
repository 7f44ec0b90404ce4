/**
 * Parsing of flag values that @effect/cli has no primitive for.
 *
 * @internal
 */
import { Duration, Either, Option } from "effect"

/** Whether the `YYYY-MM-DD` that `text` starts with is a day of the calendar (a month 1 to 12, a day of that month). */
const dayExists = (text: string): boolean => {
  const year = Number(text.slice(0, 4))
  const month = Number(text.slice(5, 7))
  const day = Number(text.slice(8, 10))
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
  return month >= 1 && month <= 12 && day >= 1 && day <= days
}

/**
 * A time given as epoch milliseconds (`1700000000000`) or as an ISO 8601 date or date-time
 * (`2024-01-31`, `2024-01-31T12:00:00Z`), as epoch milliseconds. A day that does not exist (`2024-02-30`) is refused.
 *
 * @internal
 */
export const parseTime = (flag: string, text: string): Either.Either<number, string> => {
  const trimmed = text.trim()
  if (/^-?\d+$/.test(trimmed)) {
    const millis = Number(trimmed)
    return Number.isSafeInteger(millis) && millis >= 0
      ? Either.right(millis)
      : Either.left(`--${flag}: '${text}' is not a time (epoch milliseconds must be a non-negative integer)`)
  }
  // Date.parse rolls a day that does not exist over into the next month (2024-02-30 is 2024-03-01): refused first
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed) && dayExists(trimmed)) {
    const millis = Date.parse(trimmed)
    if (!Number.isNaN(millis) && millis >= 0) return Either.right(millis)
  }
  return Either.left(`--${flag}: '${text}' is not a time (use ISO 8601, e.g. 2024-01-31T12:00:00Z, or epoch milliseconds)`)
}

/**
 * A positive integer id (asset id, data set id, security category).
 *
 * @internal
 */
export const parseId = (flag: string, text: string): Either.Either<number, string> => {
  const trimmed = text.trim()
  const id = Number(trimmed)
  return /^\d+$/.test(trimmed) && Number.isSafeInteger(id) && id >= 1
    ? Either.right(id)
    : Either.left(`--${flag}: '${text}' is not an id (a positive integer)`)
}

/**
 * A duration as seconds (`90`) or in words (`10 minutes`).
 *
 * @internal
 */
export const parseDuration = (flag: string, text: string): Either.Either<Duration.Duration, string> => {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return Either.right(Duration.seconds(Number(trimmed)))
  return Option.match(Duration.decodeUnknown(trimmed), {
    onNone: () => Either.left(`--${flag}: '${text}' is not a duration (seconds, or e.g. "10 minutes")`),
    onSome: Either.right
  })
}

/**
 * A `key=value` pair (the value may contain `=`; the key may not be empty).
 *
 * @internal
 */
export const parseEntry = (flag: string, text: string): Either.Either<readonly [string, string], string> => {
  const at = text.indexOf("=")
  return at > 0
    ? Either.right([text.slice(0, at), text.slice(at + 1)] as const)
    : Either.left(`--${flag}: '${text}' is not key=value`)
}

/**
 * A whole number between `min` and `max`.
 *
 * @internal
 */
export const parseInteger = (flag: string, text: string, min: number, max: number): Either.Either<number, string> => {
  const trimmed = text.trim()
  const n = Number(trimmed)
  return /^\d+$/.test(trimmed) && n >= min && n <= max
    ? Either.right(n)
    : Either.left(`--${flag}: '${text}' is not a whole number from ${min} to ${max}`)
}
