/**
 * The one place that tells whether the library runs in a web page, and what a failed request means there: a
 * browser gives a refused CORS request, a refused connection and a dropped one the same opaque `TypeError` (no error
 * code, no detail), so the retry policy bounds such failures like connect-phase ones, and their messages name CORS
 * as a possible cause.
 *
 * @internal
 */

/** Whether a `window` and a `document` exist (a web page; not Node, Deno 2, Bun or a worker). @internal */
export const inBrowser = (): boolean => typeof globalThis === "object" && "window" in globalThis && "document" in globalThis

const pageOrigin = (): string => {
  const location: unknown = (globalThis as { readonly location?: unknown }).location
  if (typeof location === "object" && location !== null && "origin" in location && typeof location.origin === "string") {
    return location.origin
  }
  return "this page's origin"
}

/**
 * The hint added to the message of an opaque transport failure in a browser, e.g.
 * "; in a browser this is also how a CORS refusal looks: check that https://x.cognitedata.com allows requests from
 * http://localhost:5173".
 *
 * @internal
 */
export const corsHint = (origin: string): string =>
  `; in a browser this is also how a CORS refusal looks: check that ${origin} allows requests from ${pageOrigin()}`
