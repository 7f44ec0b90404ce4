/**
 * The progress display of `cdf-files upload`: a pure function from the state of the uploads to the lines a
 * terminal shows, so that it can be tested without a terminal.
 *
 * @internal
 */

/** @internal */
export type FileStatus = "queued" | "uploading" | "done" | "failed" | "cancelled"

/** @internal */
export interface FileProgress {
  /** The path as the user sees it. */
  readonly path: string
  /** Its size in bytes, when known. */
  readonly size: number | undefined
  /** Bytes handed to the network so far. */
  readonly sent: number
  readonly status: FileStatus
  /** Milliseconds since the epoch. */
  readonly startedAt: number | undefined
  readonly finishedAt: number | undefined
}

/** @internal */
export interface ProgressState {
  readonly files: ReadonlyArray<FileProgress>
  /** When the command started, in milliseconds since the epoch. */
  readonly startedAt: number
}

/** @internal */
export interface RenderOptions {
  /** The current time, in milliseconds since the epoch. */
  readonly now: number
  /** The width of the terminal, in columns. */
  readonly width: number
  /** How many files in flight get a bar of their own (default 8). */
  readonly maxFiles?: number
}

const units = ["B", "KiB", "MiB", "GiB", "TiB"] as const

/**
 * `1536` -> `"1.5 KiB"`; bytes are shown whole, larger units with one decimal.
 *
 * @internal
 */
export const formatBytes = (bytes: number): string => {
  let value = Math.max(0, bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`
}

/**
 * A duration as `m:ss` (or `h:mm:ss`), rounded up to whole seconds.
 *
 * @internal
 */
export const formatDuration = (millis: number): string => {
  const total = Math.max(0, Math.ceil(millis / 1000))
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = total % 60
  const ss = String(seconds).padStart(2, "0")
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${ss}` : `${minutes}:${ss}`
}

/**
 * A bar of `width` cells, `#` for the done fraction and `.` for the rest; all `.` when the fraction is unknown.
 *
 * @internal
 */
export const bar = (fraction: number | undefined, width: number): string => {
  const cells = Math.max(0, width)
  const done = fraction === undefined ? 0 : Math.round(Math.min(1, Math.max(0, fraction)) * cells)
  return "#".repeat(done) + ".".repeat(cells - done)
}

const fit = (text: string, width: number): string => {
  if (width <= 0) return ""
  if (text.length <= width) return text.padEnd(width)
  if (width <= 1) return text.slice(text.length - width)
  return "…" + text.slice(text.length - width + 1)
}

interface Figures {
  readonly done: number
  readonly total: number | undefined
  readonly elapsed: number
}

const describe = ({ done, elapsed, total }: Figures): string => {
  const percent = total === undefined ? "  ?%" : `${String(Math.floor(total === 0 ? 100 : (done / total) * 100)).padStart(3)}%`
  const amount = total === undefined ? formatBytes(done) : `${formatBytes(done)}/${formatBytes(total)}`
  const rate = elapsed > 0 ? (done / elapsed) * 1000 : undefined
  const rateText = rate === undefined ? "--/s" : `${formatBytes(rate)}/s`
  const left = total === undefined
    ? "--:--"
    : done >= total
    ? formatDuration(0)
    : rate === undefined || rate === 0
    ? "--:--"
    : formatDuration(((total - done) / rate) * 1000)
  return `${percent}  ${amount}  ${rateText}  ${left} left`
}

interface Row {
  readonly label: string
  readonly fraction: number | undefined
  readonly text: string
}

const row = (label: string, figures: Figures): Row => ({
  label,
  fraction: figures.total === undefined ? undefined : figures.total === 0 ? 1 : figures.done / figures.total,
  text: describe(figures)
})

/**
 * Lays rows out in aligned columns: label, bar, figures; never wider than `width - 1` (a wrapped line would break the
 * redraw). Labels are paths shortened from the left (the tail names the file); the bar gives way first.
 */
const labelColumn = (rows: ReadonlyArray<Row>, width: number): number =>
  Math.min(40, Math.max(12, width - Math.max(0, ...rows.map((r) => r.text.length)) - 25))

const layout = (rows: ReadonlyArray<Row>, width: number): Array<string> => {
  const textWidth = Math.max(0, ...rows.map((r) => r.text.length))
  const labelWidth = labelColumn(rows, width)
  const barWidth = Math.max(5, Math.min(40, width - labelWidth - textWidth - 5))
  return rows.map((r) =>
    `${fit(r.label, labelWidth)} [${bar(r.fraction, barWidth)}] ${r.text}`.slice(0, Math.max(1, width - 1))
  )
}

/**
 * The overall line: its label (the files done out of the total) is never cut; when the terminal is narrow, the bar
 * goes first, then the time left, then the files per second.
 */
const overallLine = (label: string, texts: ReadonlyArray<string>, fraction: number | undefined, width: number, labelWidth: number): string => {
  const padded = label.padEnd(labelWidth)
  const fits = (text: string) => padded.length + 2 + text.length <= width - 1
  const full = texts[0]
  const room = width - 1 - padded.length - full.length - 4
  if (room >= 5) return `${padded} [${bar(fraction, Math.min(40, room))}] ${full}`
  const text = texts.find(fits) ?? texts[texts.length - 1]
  return `${padded}  ${text}`.slice(0, Math.max(1, width - 1))
}

const filesRate = (files: number, millis: number): string => {
  if (millis <= 0) return "-- files/s"
  const rate = (files / millis) * 1000
  return `${rate < 10 ? rate.toFixed(1) : Math.round(rate)} files/s`
}

/**
 * The lines of one frame: a bar per file in flight (at most `maxFiles`, then a line counting the others), then the
 * overall bar with the files done out of the total, bytes, rate, time left and files per second.
 *
 * @internal
 */
export const render = (state: ProgressState, options: RenderOptions): ReadonlyArray<string> => {
  const maxFiles = options.maxFiles ?? 8
  const inFlight = state.files.filter((file) => file.status === "uploading")
  const rows: Array<Row> = inFlight.slice(0, maxFiles).map((file) =>
    row(escapeControl(file.path), {
      done: file.sent,
      total: file.size,
      elapsed: file.startedAt === undefined ? 0 : options.now - file.startedAt
    })
  )
  let total: number | undefined = 0
  let sent = 0
  let done = 0
  let failed = 0
  for (const file of state.files) {
    total = total === undefined || file.size === undefined ? undefined : total + file.size
    sent += file.sent
    if (file.status === "done") done++
    else if (file.status === "failed") failed++
  }
  const label = `${done}/${state.files.length} files${failed > 0 ? `, ${failed} failed` : ""}`
  const elapsed = options.now - state.startedAt
  const overall = row(label, { done: sent, total, elapsed })
  const lines = layout(rows, options.width)
  const rate = filesRate(done, elapsed)
  const withoutLeft = overall.text.replace(/ {2}\S+ left$/, "")
  lines.push(overallLine(
    label,
    [`${overall.text}  ${rate}`, `${withoutLeft}  ${rate}`, withoutLeft],
    overall.fraction,
    options.width,
    rows.length > 0 ? labelColumn(rows, options.width) : 0
  ))
  if (inFlight.length > maxFiles) {
    lines.splice(lines.length - 1, 0, `  … and ${inFlight.length - maxFiles} more in flight`)
  }
  return lines
}

/**
 * What to write to the terminal to replace the previous frame (of `previousLines` lines) with `lines`: move the
 * cursor up, clear to the end of the screen, write the new lines.
 *
 * @internal
 */
export const frame = (previousLines: number, lines: ReadonlyArray<string>): string =>
  (previousLines > 0 ? `\x1b[${previousLines}F\x1b[0J` : "") + lines.map((l) => l + "\n").join("")

const jsonEscapes: Record<string, string> = { "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r" }

/**
 * `text` with its control characters (U+0000 to U+001F, U+007F to U+009F) written as in JSON (`\n`, `\t`,
 * `\u001b`, ...), so that a file name with a newline (or an escape sequence) stays on its line of text output.
 *
 * @internal
 */
export const escapeControl = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    jsonEscapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
