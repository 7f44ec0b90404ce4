/**
 * The Bun and Deno entry: runs the program against the target given as JSON in the first argument and prints the
 * outcomes as one JSON line.
 */
import { run, type Target } from "./program.js"

const args: ReadonlyArray<string> = (globalThis as { readonly Deno?: { readonly args: ReadonlyArray<string> } }).Deno
  ?.args ?? process.argv.slice(2)
const target = JSON.parse(args[0] ?? "{}") as Target
run(target).then((outcomes) => console.log(JSON.stringify(outcomes)))
