import { CdfError, FileMetadata } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref, TestClock } from "effect"
import type { PlannedFile } from "../src/internal/plan.js"
import type { Output, Uploader } from "../src/internal/runner.js"
import { runUploads } from "../src/internal/runner.js"

const planned = (name: string, size: number): PlannedFile => ({ path: name, display: name, size, options: { name } })

const record = (id: number, name: string) =>
  new FileMetadata.FileMetadata({ id, name, uploaded: false, createdTime: 0, lastUpdatedTime: 0 })

const capture = (isTTY: boolean) =>
  Effect.gen(function*() {
    const out = yield* Ref.make("")
    const err = yield* Ref.make("")
    const output: Output = {
      out: (text) => Ref.update(out, (s) => s + text),
      err: (text) => Ref.update(err, (s) => s + text),
      isTTY,
      columns: () => 100
    }
    return { output, out: Ref.get(out), err: Ref.get(err) }
  })

describe("running uploads", () => {
  it.effect("on a terminal: progress frames while files are in flight, finished lines, the summary", () =>
    Effect.gen(function*() {
      const { out, output } = yield* capture(true)
      const gate = yield* Deferred.make<void>()
      const uploader: Uploader = (file, onProgress) =>
        Effect.gen(function*() {
          const size = file.size ?? 0
          // on a terminal, the runner watches the progress of every upload
          if (onProgress === undefined) return yield* Effect.die("no progress callback on a terminal")
          yield* onProgress({ sent: size / 2, acknowledged: 0, total: size })
          yield* Deferred.await(gate)
          yield* onProgress({ sent: size, acknowledged: size, total: size })
          return record(1, file.display)
        })
      const fiber = yield* Effect.fork(runUploads({
        files: [planned("big.bin", 4096)],
        uploader,
        concurrency: 2,
        mode: "tty",
        output
      }))
      yield* TestClock.adjust("250 millis")
      const during = yield* out
      expect(during).toContain("big.bin")
      expect(during).toContain("]  50%  2.0 KiB/4.0 KiB")
      expect(during).toContain("0/1 files")
      yield* Deferred.succeed(gate, undefined)
      const summary = yield* Fiber.join(fiber)
      expect(summary).toMatchObject({ uploaded: 1, exitCode: 0 })
      const all = yield* out
      expect(all).toContain("\x1b[") // frames are redrawn in place
      expect(all).toContain("uploaded big.bin (4.0 KiB) id=1\n")
      expect(all.slice(all.lastIndexOf("uploaded big.bin"))).toBe(
        "uploaded big.bin (4.0 KiB) id=1\n1 uploaded, 0 skipped, 0 failed; 4.0 KiB in 0.3 s (0.02 MB/s, 4.00 files/s)\n"
      )
    }))

  it.effect("an auth error stops files from starting; the exit code is 3", () =>
    Effect.gen(function*() {
      const { err, out, output } = yield* capture(false)
      const started = yield* Ref.make<Array<string>>([])
      const uploader: Uploader = (file) =>
        Effect.zipRight(
          Ref.update(started, (s) => [...s, file.display]),
          Effect.fail(new CdfError.AuthError({ message: "Unauthorized", reason: "Unauthorized", status: 401 }))
        )
      const summary = yield* runUploads({
        files: [planned("a", 1), planned("b", 1), planned("c", 1)],
        uploader,
        concurrency: 1,
        mode: "plain",
        output
      })
      expect(yield* Ref.get(started)).toEqual(["a"])
      expect(summary).toMatchObject({ failed: 1, notStarted: 2, exitCode: 3 })
      // one line for the file that failed, none per file not started: the advice is said once, on stderr
      expect((yield* out).split("\n").slice(0, 2)).toEqual([
        "failed a: AuthError: Unauthorized",
        "0 uploaded, 0 skipped, 1 failed, 2 not started; 0 B in 0.0 s (0.00 MB/s, 0.00 files/s)"
      ])
      const advice = yield* err
      expect(advice.match(/authentication failed/g)).toHaveLength(1)
      expect(advice).toContain("check CDF_TOKEN (--token)")
      expect(advice).toContain("IDP_CLIENT_ID, IDP_CLIENT_SECRET, and IDP_TOKEN_URL or IDP_TENANT_ID")
      expect(advice).toContain("2 files were not started after the auth error")
    }))

  it.effect("interruption interrupts the uploads in flight and reports what was left", () =>
    Effect.gen(function*() {
      const { err, out, output } = yield* capture(false)
      const interrupted = yield* Ref.make<Array<string>>([])
      const inFlight = yield* Deferred.make<void>()
      const uploader: Uploader = (file) =>
        file.display === "a"
          ? Effect.succeed(record(1, "a"))
          : Effect.zipRight(Deferred.succeed(inFlight, undefined), Effect.never).pipe(
            Effect.onInterrupt(() => Ref.update(interrupted, (s) => [...s, file.display]))
          )
      const fiber = yield* Effect.fork(runUploads({
        files: [planned("a", 1), planned("b", 1), planned("c", 1)],
        uploader,
        concurrency: 1,
        mode: "json",
        output
      }))
      yield* Deferred.await(inFlight)
      yield* Fiber.interrupt(fiber)
      expect(yield* Ref.get(interrupted)).toEqual(["b"])
      const lines = (yield* out).trim().split("\n").map((l) => JSON.parse(l))
      expect(lines.map((l) => [l.type, l.path, l.status])).toEqual([
        ["file", "a", "uploaded"],
        ["file", "b", "cancelled"],
        ["summary", undefined, undefined]
      ])
      expect(lines[2]).toMatchObject({ interrupted: true, cancelled: 1, notStarted: 1, notUploaded: ["b", "c"] })
      expect(yield* err).toContain("interrupted. 1 of 3 uploaded; 1 in flight cancelled")
    }))

  it.effect("at most `concurrency` files are in flight at once", () =>
    Effect.gen(function*() {
      const { output } = yield* capture(false)
      const current = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const uploader: Uploader = (file) =>
        Effect.gen(function*() {
          const now = yield* Ref.updateAndGet(current, (n) => n + 1)
          yield* Ref.update(peak, (p) => Math.max(p, now))
          yield* Effect.yieldNow()
          yield* Ref.update(current, (n) => n - 1)
          return record(1, file.display)
        })
      const files = Array.from({ length: 10 }, (_, i) => planned(`f${i}`, 1))
      const summary = yield* runUploads({ files, uploader, concurrency: 3, mode: "plain", output })
      expect(summary.uploaded).toBe(10)
      expect(yield* Ref.get(peak)).toBe(3)
    }))
})
