/**
 * The one field of the `POST files` answer that the hand-written clients need: the upload URL, checked by hand so
 * that they load no schema library.
 */

/** The `uploadUrl` of a `POST files` answer (parsed JSON), resolved against `baseUrl`; throws if there is none. */
export const uploadUrlOf = (answer: unknown, baseUrl: string): string => {
  if (typeof answer !== "object" || answer === null || !("uploadUrl" in answer) || typeof answer.uploadUrl !== "string") {
    throw new Error("POST files answered no uploadUrl")
  }
  return new URL(answer.uploadUrl, baseUrl).href
}
