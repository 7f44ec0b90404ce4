/**
 * The command line an interrupted `cdf-files sync` prints to continue: every secret masked (the binary's own test is
 * in SyncResume.test.ts and SyncCluster.test.ts; here every form of a secret on the command line).
 */
import { describe, expect, it } from "@effect/vitest"
import { rerunAdvice, rerunCommand } from "../src/internal/syncRerun.js"

describe("the command that continues a sync", () => {
  it("masks --token and --client-secret, in both forms, and quotes the rest for a shell", () => {
    expect(rerunCommand(["sync", "./my dir", "--token", "tok-123", "--client-secret=sec-456", "--include", "*.pdf"])).toEqual({
      command: "cdf-files sync './my dir' --token *** --client-secret=*** --include '*.pdf'",
      masked: true,
      secretFlag: true
    })
    expect(rerunCommand(["sync", "d", "--token=tok-123", "--client-secret", "sec-456", "--client-id", "app"]).command).toBe(
      "cdf-files sync d --token=*** --client-secret *** --client-id app"
    )
  })

  it("prints a database URL with its password masked, as the state is named elsewhere", () => {
    expect(rerunCommand(["sync", "d", "--state", "postgres://user:pa55@db.example:5432/ingest"]).command).toBe(
      "cdf-files sync d --state 'postgres://user:***@db.example:5432/ingest'"
    )
    expect(rerunCommand(["sync", "d", "--state=postgresql://user:pa55@db/ingest"]).command).toBe(
      "cdf-files sync d '--state=postgresql://user:***@db/ingest'"
    )
    // no password: nothing to mask
    expect(rerunCommand(["sync", "d", "--state", "postgres://user@db/ingest"])).toEqual({
      command: "cdf-files sync d --state postgres://user@db/ingest",
      masked: false,
      secretFlag: false
    })
  })

  it("says what the mask stands for only when something was masked", () => {
    expect(rerunAdvice(["sync", "d", "--state", "s.db"])).toBe("cdf-files sync d --state s.db")
    expect(rerunAdvice(["sync", "d", "--token", "t"]).split("\n")).toEqual([
      "cdf-files sync d --token ***",
      "  (*** stands for a secret given on the command line, which is never printed: give it again, or better set it " +
      "in the environment or .env: CDF_TOKEN, IDP_CLIENT_SECRET)"
    ])
    expect(rerunAdvice(["sync", "d", "--state", "postgres://u:p@db/x"]).split("\n")).toEqual([
      "cdf-files sync d --state 'postgres://u:***@db/x'",
      "  (*** stands for a secret given on the command line, which is never printed: give it again)"
    ])
  })
})
