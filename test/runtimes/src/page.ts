/** The browser entry: the program as `globalThis.cdfRun(target, kinds?)`, for the page of the Chromium test. */
import { run } from "./program.js"

Object.assign(globalThis, { cdfRun: run })
