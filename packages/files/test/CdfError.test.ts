import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { CdfError } from "@effect-cdf/files"

describe("CdfError", () => {
  it.effect("errors are tagged, yieldable and recognised by the guard", () =>
    Effect.gen(function*() {
      const error = new CdfError.UploadError({ message: "storage answered 503", reason: "Status", status: 503 })
      const result = yield* Effect.either(error)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left._tag).toBe("UploadError")
        expect(CdfError.isCdfError(result.left)).toBe(true)
      }
      expect(CdfError.isCdfError(new Error("x"))).toBe(false)
    }))

  it("withCleanup records the deleted file and keeps the class", () => {
    const error = new CdfError.CdfApiError({ message: "boom", status: 500, code: 500 })
    const annotated = CdfError.withCleanup(error, new CdfError.Cleanup({ fileId: 7, deleted: true }))
    expect(annotated).toBeInstanceOf(CdfError.CdfApiError)
    expect(annotated.cleanup?.fileId).toBe(7)
    expect(annotated.status).toBe(500)
    expect(annotated.message).toContain("file 7")
    expect(error.cleanup).toBeUndefined()
  })

  it("RequestInfo drops the query string", () => {
    const info = CdfError.RequestInfo.fromUrl("PUT", "https://storage.example/upload/1?sig=SECRET&x=1")
    expect(info.path).toBe("/upload/1")
    expect(JSON.stringify(info)).not.toContain("SECRET")
  })
})
