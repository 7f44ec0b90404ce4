import { describe, expect, it } from "@effect/vitest"
import type { FileProgress, ProgressState } from "../src/internal/progress.js"
import { bar, formatBytes, formatDuration, frame, render } from "../src/internal/progress.js"

const file = (overrides: Partial<FileProgress> & { readonly path: string }): FileProgress => ({
  size: 1000,
  sent: 0,
  status: "queued",
  startedAt: undefined,
  finishedAt: undefined,
  ...overrides
})

const t0 = 1_700_000_000_000

describe("progress rendering", () => {
  it("formats bytes in binary units", () => {
    expect(formatBytes(0)).toBe("0 B")
    expect(formatBytes(1023)).toBe("1023 B")
    expect(formatBytes(1536)).toBe("1.5 KiB")
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MiB")
    expect(formatBytes(3.25 * 1024 ** 3)).toBe("3.3 GiB")
  })

  it("formats durations as m:ss and h:mm:ss, rounding up", () => {
    expect(formatDuration(0)).toBe("0:00")
    expect(formatDuration(1)).toBe("0:01")
    expect(formatDuration(61_000)).toBe("1:01")
    expect(formatDuration(3_600_000 + 5_000)).toBe("1:00:05")
  })

  it("draws bars proportionally and clamps", () => {
    expect(bar(0, 10)).toBe("..........")
    expect(bar(0.5, 10)).toBe("#####.....")
    expect(bar(1, 10)).toBe("##########")
    expect(bar(2, 4)).toBe("####")
    expect(bar(undefined, 4)).toBe("....")
  })

  it("shows a bar per file in flight and an overall line with bytes, rate and time left", () => {
    const state: ProgressState = {
      startedAt: t0,
      files: [
        file({ path: "a.bin", size: 2048, sent: 1024, status: "uploading", startedAt: t0 }),
        file({ path: "b.bin", size: 2048, sent: 2048, status: "done", startedAt: t0, finishedAt: t0 + 500 }),
        file({ path: "c.bin", size: 4096, status: "queued" })
      ]
    }
    const lines = render(state, { now: t0 + 2000, width: 120 })
    expect(lines).toHaveLength(2)
    // a.bin: half of 2 KiB in 2 s -> 512 B/s, 1 KiB left -> 2 s
    expect(lines[0]).toMatch(/^a\.bin\s+\[/)
    expect(lines[0]).toContain(" 50%  1.0 KiB/2.0 KiB  512 B/s  0:02 left")
    // overall: 3 KiB of 8 KiB in 2 s -> 1.5 KiB/s, 5 KiB left -> 4 s (rounded up)
    expect(lines[1]).toMatch(/^1\/3 files\s+\[/)
    expect(lines[1]).toContain(" 37%  3.0 KiB/8.0 KiB  1.5 KiB/s  0:04 left")
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120)
  })

  it("a name with a line break or an escape sequence stays on its row, escaped", () => {
    const lines = render({
      startedAt: t0,
      files: [file({ path: "new\nline\u001b[2J.bin", size: 2048, sent: 1024, status: "uploading", startedAt: t0 })]
    }, { now: t0 + 1000, width: 120 })
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^new\\nline\\u001b\[2J\.bin\s+\[/)
    for (const line of lines) expect(line.includes("\n") || line.includes("\u001b")).toBe(false)
  })

  it("fills the bar with the fraction done", () => {
    const lines = render({
      startedAt: t0,
      files: [file({ path: "x", size: 100, sent: 25, status: "uploading", startedAt: t0 })]
    }, { now: t0 + 1000, width: 100 })
    const cells = /\[([#.]+)\]/.exec(lines[0])![1]
    expect(cells.length).toBeGreaterThanOrEqual(5)
    expect(cells.split("").filter((c) => c === "#").length).toBe(Math.round(cells.length * 0.25))
  })

  it("says when rate and time left are unknown", () => {
    const lines = render({
      startedAt: t0,
      files: [file({ path: "x", size: 100, sent: 0, status: "uploading", startedAt: t0 })]
    }, { now: t0, width: 100 })
    expect(lines[0]).toContain("  0%  0 B/100 B  --/s  --:-- left")
  })

  it("limits the bars to maxFiles and counts the rest", () => {
    const files = Array.from({ length: 5 }, (_, i) =>
      file({ path: `f${i}`, sent: 10, status: "uploading", startedAt: t0 }))
    const lines = render({ startedAt: t0, files }, { now: t0 + 1000, width: 100, maxFiles: 2 })
    expect(lines).toHaveLength(4)
    expect(lines[2]).toBe("  … and 3 more in flight")
    expect(lines[3]).toMatch(/^0\/5 files/)
  })

  it("counts failures and shows 100% with nothing left when all is done", () => {
    const lines = render({
      startedAt: t0,
      files: [
        file({ path: "a", size: 10, sent: 10, status: "done" }),
        file({ path: "b", size: 10, sent: 10, status: "failed" })
      ]
    }, { now: t0 + 1000, width: 100 })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^1\/2 files, 1 failed/)
    expect(lines[0]).toContain("100%  20 B/20 B  20 B/s  0:00 left")
  })

  it("shortens long paths from the left to fit the width", () => {
    const path = "very/long/directory/name/that/does/not/fit/in/the/label/column/file.csv"
    const lines = render({
      startedAt: t0,
      files: [file({ path, sent: 10, status: "uploading", startedAt: t0 })]
    }, { now: t0 + 1000, width: 80 })
    expect(lines[0].startsWith("…")).toBe(true)
    expect(lines[0]).toContain("file.csv")
    expect(lines[0].length).toBeLessThanOrEqual(80)
  })

  it("never cuts the overall label (files done out of the total), even on a narrow terminal with large figures", () => {
    const files = [
      ...Array.from({ length: 90 }, (_, i) =>
        file({ path: `deep/dir/report-${i}.pdf`, size: 300 * 1024 ** 2, sent: 300 * 1024 ** 2, status: "done" })),
      ...Array.from({ length: 3 }, (_, i) =>
        file({ path: `deep/dir/failed-${i}.pdf`, size: 300 * 1024 ** 2, sent: 0, status: "failed" })),
      ...Array.from({ length: 3 }, (_, i) =>
        file({ path: `deep/dir/now-${i}.pdf`, size: 300 * 1024 ** 2, sent: 1024 ** 2, status: "uploading", startedAt: t0 }))
    ]
    for (const width of [60, 80, 120]) {
      const lines = render({ startedAt: t0, files }, { now: t0 + 90_000, width })
      const overall = lines.at(-1)!
      expect(overall.startsWith("90/96 files, 3 failed ")).toBe(true)
      if (width >= 80) expect(overall).toContain("1.0 files/s")
      // the files in flight are named by the tail of their path
      expect(lines[0]).toMatch(/now-0\.pdf +\[/)
      for (const line of lines) expect(line.length).toBeLessThan(width)
    }
  })

  it("replaces the previous frame: cursor up by its height, clear, new lines", () => {
    expect(frame(0, ["a", "b"])).toBe("a\nb\n")
    expect(frame(2, ["c"])).toBe("\x1b[2F\x1b[0Jc\n")
  })
})
