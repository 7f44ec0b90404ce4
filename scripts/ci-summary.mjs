#!/usr/bin/env node
// Prints `N passed, N failed` from vitest's JSON report. A test file that failed to import (no assertions,
// status failed) counts as one failed test; a missing or unreadable report counts as one failure.
import { readFileSync } from "node:fs"

const path = process.argv[2] ?? "reports/vitest.json"
let passed = 0
let failed = 0
try {
  const report = JSON.parse(readFileSync(path, "utf8"))
  for (const file of report.testResults ?? []) {
    const assertions = file.assertionResults ?? []
    if (assertions.length === 0 && file.status !== "passed") failed += 1
    for (const a of assertions) {
      if (a.status === "passed") passed += 1
      else if (a.status === "failed") failed += 1
    }
  }
} catch (error) {
  console.error(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`)
  failed += 1
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
