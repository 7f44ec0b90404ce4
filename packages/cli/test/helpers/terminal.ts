/**
 * Runs a command on a pseudo-terminal (util-linux `script`) and replays what it wrote as a terminal would show it,
 * to check what is left on the screen.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { environment } from "./binary.js"

/** Quotes an argument for `sh -c`. */
const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`

/**
 * Starts `node <script> ...args` on a pseudo-terminal of `columns` columns; what is written to the child's stdin
 * reaches the terminal as typed keys (`\x03` is Ctrl-C). `script -e` exits with the command's exit code.
 */
export const startOnTerminal = (
  args: ReadonlyArray<string>,
  options: { readonly env: Record<string, string>; readonly cwd: string; readonly columns: number }
): ChildProcess =>
  spawn(
    "script",
    ["-eqc", `stty cols ${options.columns} rows 50; exec ${[process.execPath, ...args].map(quote).join(" ")}`, "/dev/null"],
    { cwd: options.cwd, env: environment(options.env), stdio: ["pipe", "pipe", "pipe"] }
  )

/**
 * The lines a terminal shows after `raw`: text, `\r`, `\n`, cursor up to the line start (`ESC[nF`) and erase to the
 * end of the screen (`ESC[0J`); any other escape sequence is kept as text, so that a test sees it.
 */
export const screen = (raw: string): Array<string> => {
  const lines: Array<string> = [""]
  let row = 0
  let col = 0
  // eslint-disable-next-line no-control-regex -- escape codes are what this reads
  for (const match of raw.matchAll(/\x1b\[(\d*)([FJ])|\r|\n|\x1b|[^\x1b\r\n]+/g)) {
    const token = match[0]
    if (token === "\r") {
      col = 0
    } else if (token === "\n") {
      row++
      lines[row] ??= ""
    } else if (match[2] === "F") {
      row = Math.max(0, row - Number(match[1] || "1"))
      col = 0
    } else if (match[2] === "J" && (match[1] === "" || match[1] === "0")) {
      lines[row] = lines[row].slice(0, col)
      lines.length = row + 1
    } else {
      const line = lines[row].padEnd(col)
      lines[row] = line.slice(0, col) + token + line.slice(col + token.length)
      col += token.length
    }
  }
  return lines
}
