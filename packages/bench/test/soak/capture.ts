/**
 * What the fault soak (`../soak.test.ts`) captures to look for secrets in: every log line (every level), every span as
 * text, and the secrets that crossed the wire (the tokens issued, the upload URLs' signatures).
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { Cause, Effect, Exit, Logger, Tracer } from "effect"

// ---------------------------------------------------------------------------------------------------------------
// Capture: log lines (every level), the secrets that crossed the wire (tokens issued, upload-URL signatures)

export const captured = { lines: [] as Array<string>, spans: [] as Array<string>, secrets: new Set<string>() }

/** A tracer that keeps every span's name, attributes and events as text, to look for secrets in them. */
export const CaptureTracer = Tracer.make({
  span: (name, parent, context, links, startTime, kind) => {
    const attributes = new Map<string, unknown>()
    const events: Array<string> = []
    let status: Tracer.SpanStatus = { _tag: "Started", startTime }
    const id = String(captured.spans.length)
    const span: Tracer.Span = {
      _tag: "Span",
      name,
      spanId: id,
      traceId: "soak",
      parent,
      context,
      get status() {
        return status
      },
      attributes,
      links: [...links],
      sampled: true,
      kind,
      end: (endTime, exit) => {
        status = { _tag: "Ended", startTime, endTime, exit }
        captured.spans.push(
          `${name} ${JSON.stringify([...attributes.entries()], (_, v) => typeof v === "bigint" ? String(v) : v)} ${
            events.join(" ")
          } ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""}`
        )
      },
      attribute: (key, value) => {
        attributes.set(key, value)
      },
      event: (eventName, _time, eventAttributes) => {
        events.push(`${eventName} ${JSON.stringify(eventAttributes ?? {})}`)
      },
      addLinks: () => {}
    }
    return span
  },
  context: (f) => f()
})

export const CaptureLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.map(Logger.logfmtLogger, (line) => {
    captured.lines.push(line)
  })
)

export const recordSecrets = (storageUrl: string, tokenUrl: string) => (client: HttpClient.HttpClient) =>
  client.pipe(
    HttpClient.tapRequest((request) =>
      Effect.sync(() => {
        if (!request.url.startsWith(storageUrl)) return
        const query = request.url.split("?")[1]
        if (query !== undefined) {
          for (const value of new URLSearchParams(query).values()) if (value.length >= 8) captured.secrets.add(value)
        }
      })
    ),
    HttpClient.tap((response) =>
      response.request.url.startsWith(tokenUrl)
        ? response.text.pipe(
          Effect.tap((text) =>
            Effect.sync(() => {
              const token = /"access_token"\s*:\s*"([^"]+)"/.exec(text)?.[1]
              if (token !== undefined) captured.secrets.add(token)
            })
          ),
          Effect.ignore
        )
        : Effect.void
    )
  )
