import { CdfError, FileMetadata } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import type { Outcome } from "../src/internal/report.js"
import {
  exitCodeOf,
  interruptedLines,
  jsonLine,
  plainLine,
  skippedLines,
  summarize,
  summaryLine
} from "../src/internal/report.js"

const record = new FileMetadata.FileMetadata({
  id: 17,
  externalId: "ext-a",
  name: "a.txt",
  mimeType: "text/plain",
  uploaded: true,
  createdTime: 1000,
  lastUpdatedTime: 2000
})

const uploaded: Outcome = { _tag: "Uploaded", display: "dir/a.txt", size: 2048, file: record }
const apiFailure: Outcome = {
  _tag: "Failed",
  display: "dir/b.txt",
  size: 10,
  error: new CdfError.CdfApiError({ message: "Duplicate external ids", status: 409, code: 409, requestId: "r-1" })
}
const authFailure: Outcome = {
  _tag: "Failed",
  display: "c.txt",
  size: 1,
  error: new CdfError.AuthError({ message: "Unauthorized", reason: "Unauthorized", status: 401 })
}
const badOption: Outcome = {
  _tag: "Failed",
  display: "d.txt",
  size: 1,
  error: new CdfError.InvalidFileMetadataError({ message: "too long", option: "source", limit: "at most 128" })
}

describe("reporting", () => {
  it("exit codes: 0 all uploaded, 4 a failure, 2 an option the API refuses, 3 an auth error (wins)", () => {
    expect(exitCodeOf([uploaded])).toBe(0)
    expect(exitCodeOf([uploaded, apiFailure])).toBe(4)
    expect(exitCodeOf([uploaded, badOption, apiFailure])).toBe(2)
    expect(exitCodeOf([apiFailure, authFailure, badOption])).toBe(3)
    expect(exitCodeOf([uploaded, { _tag: "NotStarted", display: "x", size: 1, reason: "r" }])).toBe(4)
    expect(summarize([uploaded], 10, true).exitCode).toBe(130)
  })

  it("plain lines name the file, its size and id, or the error", () => {
    expect(plainLine(uploaded)).toBe("uploaded dir/a.txt (2.0 KiB) id=17 externalId=ext-a")
    expect(plainLine(apiFailure)).toBe("failed dir/b.txt: CdfApiError: Duplicate external ids")
  })

  it("a control character in a name is escaped as in JSON: one line per file; the JSON line keeps the name", () => {
    const named: Outcome = {
      ...uploaded,
      display: "dir/new\nline\t.txt",
      file: new FileMetadata.FileMetadata({ ...record, externalId: "p/new\nline\t.txt" })
    }
    expect(plainLine(named)).toBe("uploaded dir/new\\nline\\t.txt (2.0 KiB) id=17 externalId=p/new\\nline\\t.txt")
    expect(plainLine({ ...apiFailure, display: "b\r\u001b[2J.txt" })).toBe(
      "failed b\\r\\u001b[2J.txt: CdfApiError: Duplicate external ids"
    )
    expect(plainLine({ _tag: "Cancelled", display: "c\n.txt", size: 1 })).toBe("cancelled c\\n.txt")
    expect(skippedLines([{ path: "pipe\nname", reason: "a FIFO (named pipe)" }])).toEqual([
      "Skipped 1 entry:",
      "  pipe\\nname: a FIFO (named pipe)"
    ])
    expect(interruptedLines([{ _tag: "NotStarted", display: "x\ny", size: 1, reason: "r" }]).slice(1)).toEqual([
      "Not uploaded:",
      "  x\\ny"
    ])
    expect(JSON.parse(jsonLine(named)).path).toBe("dir/new\nline\t.txt")
  })

  it("JSON lines carry the wire record, or the error's tag and fields", () => {
    const ok = JSON.parse(jsonLine(uploaded))
    expect(ok).toEqual({
      type: "file",
      path: "dir/a.txt",
      size: 2048,
      status: "uploaded",
      file: {
        id: 17,
        externalId: "ext-a",
        name: "a.txt",
        mimeType: "text/plain",
        uploaded: true,
        createdTime: 1000,
        lastUpdatedTime: 2000
      }
    })
    const failed = JSON.parse(jsonLine(apiFailure))
    expect(failed.status).toBe("failed")
    expect(failed.error).toMatchObject({
      _tag: "CdfApiError",
      message: "Duplicate external ids",
      status: 409,
      code: 409,
      requestId: "r-1"
    })
  })

  it("the summary counts and totals", () => {
    const summary = summarize([uploaded, apiFailure], 1500, false)
    expect(summary).toMatchObject({ files: 2, uploaded: 1, failed: 1, bytes: 2048, exitCode: 4 })
    expect(summaryLine(summary)).toBe("1 uploaded, 0 skipped, 1 failed; 2.0 KiB in 1.5 s (0.00 MB/s, 0.67 files/s)")
    expect(summaryLine(summarize([uploaded], 2000, false, 3), { baseUrl: "https://x", project: "p", emulator: false }))
      .toBe("1 uploaded, 3 skipped, 0 failed; 2.0 KiB in 2.0 s (0.00 MB/s, 0.50 files/s) to https://x, project p")
  })

  it("an interrupted run lists what was not uploaded", () => {
    const lines = interruptedLines([
      uploaded,
      { _tag: "Cancelled", display: "big.bin", size: 1 },
      { _tag: "NotStarted", display: "later.bin", size: 1, reason: "interrupted" }
    ])
    expect(lines[0]).toContain("interrupted. 1 of 3 uploaded; 1 in flight cancelled")
    expect(lines[0]).toContain("1 not started")
    expect(lines.slice(1)).toEqual(["Not uploaded:", "  big.bin", "  later.bin"])
  })
})
