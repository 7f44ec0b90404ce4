/**
 * Medians with their range, and the formatting of figures.
 */

export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export const summarize = (values: ReadonlyArray<number>): Summary | undefined => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length }
}

export const median = (values: ReadonlyArray<number>): number => summarize(values)?.median ?? Number.NaN

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

export const formatSize = (bytes: number): string =>
  bytes >= GiB && bytes % GiB === 0
    ? `${bytes / GiB} GiB`
    : bytes >= MiB
    ? `${+(bytes / MiB).toFixed(1)} MiB`
    : bytes >= KiB
    ? `${+(bytes / KiB).toFixed(1)} KiB`
    : `${bytes} B`

const fixed = (value: number, digits: number): string =>
  Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(Math.min(1, digits)) : value.toFixed(digits)

/** `median (min–max)` with `digits` decimals (fewer for large numbers). */
export const formatSummary = (summary: Summary | undefined, digits = 2, unit = ""): string =>
  summary === undefined
    ? "n/a"
    : summary.n === 1
    ? `${fixed(summary.median, digits)}${unit}`
    : `${fixed(summary.median, digits)}${unit} (${fixed(summary.min, digits)}–${fixed(summary.max, digits)})`

/** Renders rows as a Markdown table (which reads fine in a terminal too). */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n")
}

export const units = { KiB, MiB, GiB }
