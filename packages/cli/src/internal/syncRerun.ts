/**
 * The command line that continues an interrupted `cdf-files sync` (or follows a job on runners again), as printed:
 * the user's arguments, shell-quoted, with every secret masked (docs/cli.md: tokens and secrets never appear in the
 * output, and a database URL is never printed with its password).
 *
 * @internal
 */
import { Option } from "effect"
import { describeUrl, postgresUrl } from "./stateUrl.js"

/**
 * The flags whose value is a secret (`Options.redacted` in `flags.ts`): printed as `masked`.
 *
 * @internal
 */
export const secretFlags: ReadonlySet<string> = new Set(["--token", "--client-secret"])

/**
 * What stands for a secret in a printed command line: the same mask as a database URL's password.
 *
 * @internal
 */
export const masked = "***"

const quote = (arg: string) => /^[\w./:=@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`

/** `scheme://user:password@…` with the password masked; anything else as it is. */
const withoutPassword = (text: string): string => {
  const postgres = postgresUrl(text)
  if (Option.isSome(postgres)) {
    const described = describeUrl(postgres.value)
    // as the state is named elsewhere, unless it is no valid URL: then the password part alone is masked
    if (!described.startsWith("postgres://…")) return described
  }
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i, `$1${masked}@`)
}

/** One argument as printed: a URL's password masked (also in `--flag=URL`), then shell-quoted. */
const printable = (arg: string) => {
  const eq = arg.startsWith("--") ? arg.indexOf("=") : -1
  return quote(eq > 0 ? arg.slice(0, eq + 1) + withoutPassword(arg.slice(eq + 1)) : withoutPassword(arg))
}

/**
 * `cdf-files <args>` with the value of each secret flag (`--token X`, `--token=X`) printed as `***` and each URL's
 * password masked. `masked` says whether anything was left out, for the caller to say how to give it again.
 *
 * @internal
 */
export const rerunCommand = (
  args: ReadonlyArray<string>
): { readonly command: string; readonly masked: boolean; readonly secretFlag: boolean } => {
  const printed: Array<string> = []
  let hidden = false
  let secretFlag = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const eq = arg.indexOf("=")
    if (arg.startsWith("--") && eq > 0 && secretFlags.has(arg.slice(0, eq))) {
      printed.push(`${arg.slice(0, eq)}=${masked}`)
      hidden = secretFlag = true
    } else if (secretFlags.has(arg) && i + 1 < args.length) {
      printed.push(arg, masked)
      hidden = secretFlag = true
      i++
    } else {
      const shown = printable(arg)
      if (shown !== quote(arg)) hidden = true
      printed.push(shown)
    }
  }
  return { command: ["cdf-files", ...printed].join(" "), masked: hidden, secretFlag }
}

/**
 * The lines that say how to continue: the command, and when something was masked, how to give it.
 *
 * @internal
 */
export const rerunAdvice = (args: ReadonlyArray<string>): string => {
  const { command, masked: hidden, secretFlag } = rerunCommand(args)
  return !hidden
    ? command
    : `${command}\n  (${masked} stands for a secret given on the command line, which is never printed: give it again` +
      (secretFlag ? `, or better set it in the environment or .env: CDF_TOKEN, IDP_CLIENT_SECRET)` : ")")
}
