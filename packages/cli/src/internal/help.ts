/**
 * The `--help` of `cdf-files` and of each command, as plain text (no ANSI codes, whatever the terminal): a one-line
 * summary, usage, the flags in plain words (each flag's text is also its @effect/cli description, so there is one
 * place to say it), examples and exit codes. Replaces @effect/cli's generated help, which repeats filler such as
 * "A user-defined piece of text." and shows repeatable flags as required.
 *
 * @internal
 */

/**
 * One flag as the help shows it.
 *
 * @internal
 */
export interface FlagDoc {
  /** The long name, without dashes. */
  readonly name: string
  readonly alias?: string
  /** What the flag takes, e.g. `<key=value>`; none for a switch. */
  readonly value?: string
  readonly text: string
  readonly repeatable?: true
}

/**
 * A command's help.
 *
 * @internal
 */
export interface CommandDoc {
  readonly summary: string
  readonly usage: ReadonlyArray<string>
  readonly description: ReadonlyArray<string>
  readonly sections: ReadonlyArray<{ readonly title: string; readonly flags: ReadonlyArray<FlagDoc> }>
  readonly notes: ReadonlyArray<{ readonly title: string; readonly lines: ReadonlyArray<string> }>
  readonly examples: ReadonlyArray<string>
  readonly exitCodes: ReadonlyArray<readonly [number, string]>
}

const rerunNote = {
  title: "External ids and reruns",
  lines: [
    "Without an external id, every run creates new files in CDF, even for paths uploaded before: a rerun makes",
    "duplicates, and --overwrite cannot help (it matches files by external id). To make reruns safe, give",
    "--external-id-prefix: each file gets the external id <prefix><its path relative to the directory argument>",
    "(POSIX separators). A rerun then fails on the files already there (409) instead of duplicating them, or, with",
    "--overwrite, replaces them."
  ]
}

const metadataFlags: ReadonlyArray<FlagDoc> = [
  { name: "name", value: "<name>", text: "the file name in CDF (one file, or standard input; default: the file's own name)" },
  { name: "external-id", value: "<id>", text: "the external id (one file only)" },
  {
    name: "external-id-prefix",
    value: "<prefix>",
    text: "give every file the external id <prefix><path relative to its directory argument>; makes reruns safe"
  },
  {
    name: "directory",
    value: "<dir>",
    text: "the CDF directory, absolute (e.g. /reports); files in subdirectories get /reports/<subdirectory>"
  },
  { name: "source", value: "<text>", text: "the source of the files (e.g. the system they come from)" },
  { name: "mime-type", value: "<type>", text: "the MIME type (default: guessed from the file extension)" },
  { name: "metadata", value: "<key=value>", text: "a metadata entry", repeatable: true },
  { name: "label", value: "<externalId>", text: "a label, by its external id", repeatable: true },
  { name: "asset-id", value: "<id>", text: "the id of an asset to link", repeatable: true },
  { name: "data-set-id", value: "<id>", text: "the id of the data set the files belong to" },
  {
    name: "source-created-time",
    value: "<time>",
    text: "when the file was created in its source: ISO 8601 (2024-01-31T12:00:00Z) or epoch milliseconds"
  },
  { name: "source-modified-time", value: "<time>", text: "when the file was last changed in its source (as above)" },
  { name: "security-category", value: "<id>", text: "the id of a security category", repeatable: true },
  {
    name: "geo-location",
    value: "<json>",
    text: "a GeoJSON Feature, e.g. '{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[10.7,59.9]}}'"
  },
  {
    name: "overwrite",
    text: "replace the content of an existing file with the same external id (without it, that file fails with 409)"
  }
]

const runFlags: ReadonlyArray<FlagDoc> = [
  { name: "recursive", alias: "r", text: "also upload the files in subdirectories of directory arguments" },
  {
    name: "follow-symlinks",
    text: "follow symbolic links inside directories (default: skip and list them); loops are detected and skipped"
  },
  { name: "concurrency", value: "<n>", text: "how many files to upload at the same time, 1 to 64 (default 4)" },
  { name: "json", text: "print one JSON object per file and a summary object, for scripts" },
  { name: "quiet", alias: "q", text: "print only errors, on stderr (no progress, no per-file lines, no summary; --json output stays)" },
  {
    name: "emulator",
    text: "upload to a throwaway CDF emulator started in this process, ignoring CDF settings (to try the command)"
  }
]

/**
 * The connection flags, shared by every command that talks to CDF.
 *
 * @internal
 */
export const connectionFlags: ReadonlyArray<FlagDoc> = [
  { name: "base-url", value: "<url>", text: "the CDF API URL, e.g. https://westeurope-1.cognitedata.com (env CDF_URL)" },
  { name: "cluster", value: "<cluster>", text: "instead of --base-url: https://<cluster>.cognitedata.com (env CDF_CLUSTER)" },
  { name: "project", value: "<project>", text: "the CDF project (env CDF_PROJECT)" },
  { name: "client-name", value: "<name>", text: "the client name sent as x-cdp-app (env CDF_CLIENT_NAME)" },
  { name: "token", value: "<token>", text: "a bearer token (env CDF_TOKEN; prefer the environment: flags show in ps)" },
  {
    name: "login-flow",
    value: "<flow>",
    text: "client_credentials or token (env LOGIN_FLOW; default: client credentials when a client id is set)"
  },
  { name: "token-url", value: "<url>", text: "the OAuth2 token endpoint (env IDP_TOKEN_URL)" },
  { name: "tenant-id", value: "<id>", text: "instead of --token-url: the Entra ID tenant (env IDP_TENANT_ID)" },
  { name: "client-id", value: "<id>", text: "the OAuth2 client id (env IDP_CLIENT_ID)" },
  { name: "client-secret", value: "<secret>", text: "the OAuth2 client secret (env IDP_CLIENT_SECRET; prefer the environment)" },
  { name: "scopes", value: "<scopes>", text: "OAuth2 scopes, comma- or space-separated (env IDP_SCOPES)" },
  { name: "audience", value: "<audience>", text: "the OAuth2 audience, if the identity provider needs one (env IDP_AUDIENCE)" },
  { name: "allow-insecure-http", text: "accept plain http:// to a host that is not loopback" },
  { name: "dotenv", value: "<file>", text: "read settings from this file instead of ./.env" }
]

/**
 * The help of `cdf-files upload`.
 *
 * @internal
 */
export const upload: CommandDoc = {
  summary: "Upload files and directories to CDF Files.",
  usage: ["cdf-files upload [flags] <path>...", "cdf-files upload [flags] --name <name> -"],
  description: [
    "Uploads each file given, and the files in each directory given (with --recursive, in its subdirectories too),",
    "in name order. - as the only path uploads standard input, under --name. FIFOs, sockets, devices and symbolic",
    "links inside directories are skipped and listed in the summary. Every flag is optional; flags marked",
    "\"repeatable\" may be given several times. Settings come from the flags, else the environment, else ./.env;",
    "with none, the command stops with exit code 2 and names what is missing (--emulator tries it locally)."
  ],
  sections: [
    { title: "Metadata (applies to every file)", flags: metadataFlags },
    { title: "Running", flags: runFlags },
    { title: "Connection (each flag wins over its environment variable)", flags: connectionFlags }
  ],
  notes: [rerunNote],
  examples: [
    "# a directory tree, safe to run again: reruns replace the files instead of duplicating them",
    "cdf-files upload ./exports -r --external-id-prefix exports/ --directory /exports --overwrite",
    "# one file with metadata",
    "cdf-files upload scan.pdf --external-id p101-datasheet --metadata site=oslo --metadata rev=3 --label datasheet",
    "# standard input",
    "pg_dump mydb | cdf-files upload - --name mydb.sql --external-id backups/mydb.sql --overwrite",
    "# in a script: JSON lines, the exit code says what happened",
    "cdf-files upload out -r --json > result.jsonl || echo \"exit code $?\"",
    "# try it without a CDF project",
    "cdf-files upload ./reports --emulator"
  ],
  exitCodes: [
    [0, "every file was uploaded"],
    [1, "an unexpected failure (a bug: please report it)"],
    [2, "a usage or settings error: bad flag or value, missing path, no CDF settings, a value the API refuses"],
    [3, "an authentication error: check CDF_TOKEN, or IDP_CLIENT_ID, IDP_CLIENT_SECRET and IDP_TOKEN_URL"],
    [4, "some files failed to upload (an API or network failure after retries)"],
    [130, "interrupted (Ctrl-C): files in flight were cancelled and their records deleted"]
  ]
}

/**
 * The help of `cdf-files emulator`.
 *
 * @internal
 */
export const emulator: CommandDoc = {
  summary: "Start a local CDF Files emulator (a real HTTP server) until Ctrl-C.",
  usage: ["cdf-files emulator [flags]"],
  description: [
    "Starts the CDF Files emulator and prints the settings that point cdf-files, or the library, at it. Uploaded",
    "content lives in memory (or in --data-dir) and is gone when it stops."
  ],
  sections: [{
    title: "Flags",
    flags: [
      { name: "port", value: "<n>", text: "the API port (default 4000; 0: any free port)" },
      { name: "host", value: "<address>", text: "the address to listen on (default 127.0.0.1)" },
      {
        name: "storage-origin",
        value: "<origin>",
        text: "same: upload URLs on the API's port (default); separate: on a second port, as CDF does"
      },
      { name: "storage-port", value: "<n>", text: "the port of that second listener (default 0: any free port)" },
      { name: "data-dir", value: "<dir>", text: "keep uploaded content in this directory instead of memory" },
      {
        name: "token-lifetime",
        value: "<duration>",
        text: "how long issued tokens last: seconds, or e.g. \"10 minutes\" (default 1 hour)"
      },
      {
        name: "upload-url-lifetime",
        value: "<duration>",
        text: "how long upload URLs stay valid: seconds, or e.g. \"500 millis\" (default 7 days); a later PUT gets 403"
      },
      { name: "project", value: "<name>", text: "the project name (default emulator)" },
      { name: "client-id", value: "<id>", text: "the client id its token endpoint accepts (default emulator-client)" },
      {
        name: "client-secret",
        value: "<secret>",
        text: "the client secret its token endpoint accepts (default emulator-secret; random with --allow-remote)"
      },
      {
        name: "allow-remote",
        text: "allow a --host that is not loopback; the /_emulator routes then need a bearer token"
      },
      {
        name: "cors-origin",
        value: "<origin>",
        text: "allow this web origin (repeatable; \"*\": any) instead of the default, loopback origins"
      },
      { name: "no-cors", text: "answer no CORS preflight: no web page on another origin can call it" },
      {
        name: "json",
        text: "print one JSON line {baseUrl, project, token, tokenUrl, clientId, clientSecret} instead of the text"
      }
    ]
  }],
  notes: [],
  examples: [
    "cdf-files emulator --port 4000",
    "# in a script: read the settings from the JSON line",
    "cdf-files emulator --port 0 --json"
  ],
  exitCodes: [
    [1, "an unexpected failure"],
    [2, "a bad flag, or the emulator cannot start (e.g. the port is taken)"],
    [130, "stopped with Ctrl-C (the normal ending)"]
  ]
}

/**
 * The help of `cdf-files` itself.
 *
 * @internal
 */
export const root: CommandDoc = {
  summary: "Upload files to Cognite Data Fusion (CDF), or run a local CDF Files emulator.",
  usage: ["cdf-files <command> [flags]", "cdf-files <command> --help"],
  description: [
    "Commands:",
    "  upload      upload files and directories to CDF Files",
    "  sync        sync a directory tree to CDF Files: only what changed, resumable after any interruption",
    "  jobs        list the sync jobs of a state file or of a runners' database",
    "  runner      run sync jobs for others: a runner of a cluster sharing a PostgreSQL database",
    "  emulator    start a local CDF Files emulator until Ctrl-C"
  ],
  sections: [{
    title: "Flags",
    flags: [
      { name: "help", alias: "h", text: "show this help, or a command's help after the command" },
      { name: "version", text: "print the version" }
    ]
  }],
  notes: [rerunNote],
  examples: [
    "export CDF_CLUSTER=westeurope-1 CDF_PROJECT=my-project IDP_TENANT_ID=... IDP_CLIENT_ID=... IDP_CLIENT_SECRET=...",
    "cdf-files upload ./reports -r --external-id-prefix reports/",
    "cdf-files upload ./reports --emulator"
  ],
  exitCodes: [
    [0, "success"],
    [1, "an unexpected failure"],
    [2, "a usage or settings error"],
    [3, "an authentication error"],
    [4, "some files failed to upload"],
    [130, "interrupted (Ctrl-C)"]
  ]
}

/**
 * The help text of a flag, for its @effect/cli description; throws when the command's help does not document it, so
 * that no flag can go undocumented.
 *
 * @internal
 */
export const textOf = (doc: CommandDoc, name: string): string => {
  for (const section of doc.sections) {
    for (const flag of section.flags) if (flag.name === name) return flag.text
  }
  throw new Error(`the help documents no flag --${name}`)
}

const width = 100

const wrap = (text: string, indent: number, first: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  let room = width - first
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > room) {
      lines.push(line)
      line = word
      room = width - indent
    } else {
      line = line === "" ? word : `${line} ${word}`
    }
  }
  lines.push(line)
  return lines.map((l, i) => (i === 0 ? l : " ".repeat(indent) + l))
}

const flagLabel = (flag: FlagDoc): string =>
  `${flag.alias === undefined ? "    " : `-${flag.alias}, `}--${flag.name}${flag.value === undefined ? "" : ` ${flag.value}`}`

/**
 * The help of a command, as plain text.
 *
 * @internal
 */
export const render = (doc: CommandDoc): string => {
  const out: Array<string> = [doc.summary, "", "Usage:"]
  for (const usage of doc.usage) out.push(`  ${usage}`)
  out.push("", ...doc.description)
  for (const section of doc.sections) {
    out.push("", `${section.title}:`)
    const column = Math.min(34, Math.max(...section.flags.map((flag) => flagLabel(flag).length)) + 4)
    for (const flag of section.flags) {
      const label = `  ${flagLabel(flag)}`.padEnd(column)
      const text = flag.repeatable ? `${flag.text} (repeatable)` : flag.text
      if (label.trimEnd().length >= column - 1) {
        out.push(label.trimEnd(), ...wrap(text, column, column).map((l, i) => (i === 0 ? " ".repeat(column) + l : l)))
      } else {
        out.push(...wrap(text, column, column).map((l, i) => (i === 0 ? label + l : l)))
      }
    }
  }
  for (const note of doc.notes) out.push("", `${note.title}:`, ...note.lines.map((line) => `  ${line}`))
  out.push("", "Examples:", ...doc.examples.map((line) => `  ${line}`))
  out.push("", "Exit codes:", ...doc.exitCodes.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`))
  return out.join("\n") + "\n"
}
