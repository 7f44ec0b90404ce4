/**
 * The `--help` of `cdf-files sync` and `cdf-files jobs` (see help.ts for the format).
 *
 * @internal
 */
import { type CommandDoc, connectionFlags, type FlagDoc } from "./help.js"

const syncFlags: ReadonlyArray<FlagDoc> = [
  {
    name: "external-id-prefix",
    value: "<prefix>",
    text: "required: every file gets the external id <prefix><path relative to <dir>> (POSIX separators)"
  },
  {
    name: "directory",
    value: "<dir>",
    text: "the CDF directory, absolute (e.g. /docs); files in subdirectories get /docs/<subdirectory>"
  },
  {
    name: "include",
    value: "<glob>",
    text: "sync only the files whose relative path matches (picomatch, e.g. '**/*.pdf'; default: every file)",
    repeatable: true
  },
  {
    name: "exclude",
    value: "<glob>",
    text: "leave out the files whose relative path matches (e.g. 'tmp/**')",
    repeatable: true
  },
  { name: "dry-run", text: "list what would be uploaded and what skipped; send no write and keep no state" },
  {
    name: "checksum",
    text: "also compare the sha256 of each file with that of what was sent (kept in the state) before skipping it"
  },
  { name: "concurrency", value: "<n>", text: "how many files to upload at the same time, 1 to 64 (default 8)" },
  {
    name: "batch-size",
    value: "<n>",
    text: "files per batch, 1 to 1000 (default 1000; on runners 10 or more, in batches that fill the engine's " +
      "shards evenly): a batch is one existence check and the unit spread over runners"
  },
  {
    name: "state",
    value: "<file>",
    text: "the job state: a SQLite file (default $XDG_STATE_HOME/effect-cdf/sync.db or ~/.local/state/effect-cdf/sync.db), " +
      "or postgres://… to hand the job to the runners sharing that database (see cdf-files runner)"
  },
  { name: "failures", value: "<file>", text: "write the failed files as JSON lines {path, externalId, tag, message}" },
  {
    name: "json",
    text: "print one JSON line per file {path, externalId, status, bytes}, then {\"summary\": {...}}, for scripts"
  },
  { name: "quiet", alias: "q", text: "print only errors, on stderr (--json output stays)" },
  {
    name: "emulator",
    text: "sync to a CDF emulator started in this process, ignoring CDF settings; it keeps its files under the state directory, so a second run skips them"
  }
]

/**
 * The help of `cdf-files sync`.
 *
 * @internal
 */
export const sync: CommandDoc = {
  summary: "Sync a directory tree to CDF Files: upload what is new or changed, resumable after any interruption.",
  usage: ["cdf-files sync <dir> --external-id-prefix <prefix> [flags]"],
  description: [
    "Walks <dir> and uploads each file whose CDF record (found by its external id) is missing, not uploaded, or has",
    "a sourceModifiedTime other than the file's modification time; the others are skipped. Uploads replace the",
    "record (overwrite) and set sourceModifiedTime, so a rerun from any machine skips what is unchanged.",
    "The job is durable: its state (a SQLite file, --state) records every file as it is done. Interrupted in any",
    "way (Ctrl-C, kill -9, a crash), the same command continues it without sending finished files again.",
    "Settings come from the flags, else the environment, else ./.env, as for cdf-files upload."
  ],
  sections: [
    { title: "Sync", flags: syncFlags },
    { title: "Connection (each flag wins over its environment variable)", flags: connectionFlags }
  ],
  notes: [{
    title: "Jobs",
    lines: [
      "A job is its directory, prefix and CDF project: the same command is the same job. cdf-files jobs lists the",
      "jobs of a state file. See docs/ingest.md for the design and its guarantees.",
      "With --state postgres://… the job runs on the runners of that database (cdf-files runner, docs/cluster.md):",
      "this command submits it and follows it, and uploads nothing itself; --concurrency is per runner. Killed, the",
      "job goes on; the same command attaches to it again."
    ]
  }],
  examples: [
    "cdf-files sync ./docs --external-id-prefix docs/ --directory /docs",
    "# only PDFs, not the scratch folder; see first what would happen",
    "cdf-files sync ./share --external-id-prefix share/ --include '**/*.pdf' --exclude 'tmp/**' --dry-run",
    "# in a script: JSON lines, failures in a file",
    "cdf-files sync ./out --external-id-prefix out/ --json --failures failed.jsonl > result.jsonl"
  ],
  exitCodes: [
    [0, "nothing failed"],
    [1, "an unexpected failure, or the state file cannot be used"],
    [2, "a usage or settings error: bad flag or value, no such directory, no CDF settings, a value the API refuses"],
    [3, "an authentication error: check CDF_TOKEN, or IDP_CLIENT_ID, IDP_CLIENT_SECRET and IDP_TOKEN_URL"],
    [4, "some files failed to upload (an API or network failure after retries); a rerun retries them"],
    [130, "interrupted (Ctrl-C): rerun the same command to continue"]
  ]
}

/**
 * The help of `cdf-files jobs`.
 *
 * @internal
 */
export const jobs: CommandDoc = {
  summary: "List the sync jobs of a state file (or a runners' database) with their counts.",
  usage: ["cdf-files jobs [--state <file>|postgres://…] [--json]"],
  description: ["Lists each job of the state file: its id, directory, prefix, target, last run, state and counts."],
  sections: [{
    title: "Flags",
    flags: [
      {
        name: "state",
        value: "<file>",
        text: "the state file (default: the one cdf-files sync uses by default), or postgres://… (runners' database)"
      },
      { name: "json", text: "print one JSON line per job" }
    ]
  }],
  notes: [],
  examples: ["cdf-files jobs", "cdf-files jobs --state ./sync.db --json"],
  exitCodes: [[0, "listed"], [1, "the state file cannot be read"], [2, "a bad flag"]]
}

/**
 * The help of `cdf-files runner`.
 *
 * @internal
 */
export const runner: CommandDoc = {
  summary: "Run sync jobs for others: a runner of the cluster sharing a PostgreSQL database.",
  usage: ["cdf-files runner --state postgres://… [--host <addr>] [--port <n>] [flags]"],
  description: [
    "Joins the runners that share the database and runs the batches of the sync jobs submitted to it",
    "(cdf-files sync <dir> --state postgres://…), uploading with this machine's CDF settings (flags, environment,",
    "./.env). Runs until SIGTERM or Ctrl-C, then hands its work back to the other runners. The directories synced",
    "must be readable at the same path here as on every runner. See docs/cluster.md."
  ],
  sections: [
    {
      title: "Runner",
      flags: [
        { name: "state", value: "<url>", text: "required: postgres://user:password@host:port/database, shared by the runners" },
        { name: "host", value: "<addr>", text: "the address the other runners reach this one at (default 127.0.0.1)" },
        { name: "port", value: "<n>", text: "the port of this runner (default 34431)" },
        { name: "listen-host", value: "<addr>", text: "where to listen when it differs from --host (e.g. 0.0.0.0)" }
      ]
    },
    { title: "Connection (each flag wins over its environment variable)", flags: connectionFlags }
  ],
  notes: [{
    title: "Security",
    lines: [
      "Runners talk to each other over plain TCP without authentication: bind them to a private network. The",
      "database URL is never printed with its password."
    ]
  }],
  examples: [
    "cdf-files runner --state postgres://ingest:secret@db:5432/ingest --host 10.0.0.11",
    "cdf-files sync /mnt/share --external-id-prefix share/ --state postgres://ingest:secret@db:5432/ingest"
  ],
  exitCodes: [
    [1, "the runner could not start (the database cannot be reached, the port is taken)"],
    [2, "a usage or settings error: bad flag, not a postgres:// URL, no CDF settings"],
    [75, "held no shard for 30 s while its database answered (the engine left it stuck after a database restart): " +
      "restart it (systemd's Restart=always, Kubernetes do)"],
    [130, "stopped by SIGTERM or Ctrl-C, its work handed back to the other runners"]
  ]
}
