/**
 * A test Tracer that records every span's name, attributes and events, and a Logger that records every message.
 */
import { Cause, Effect, type Exit, Inspectable, Layer, Logger, LogLevel, Option, Tracer } from "effect"
import type * as Context from "effect/Context"

export interface RecordedSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }>
  readonly parent: string | undefined
  ended: boolean
}

class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId: string
  readonly traceId = "trace"
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  links: Array<Tracer.SpanLink>
  constructor(
    readonly record: RecordedSpan,
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    id: number
  ) {
    this.spanId = `span-${id}`
    this.status = { _tag: "Started", startTime }
    this.links = [...links]
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.record.ended = true
  }
  attribute(key: string, value: unknown) {
    this.attributes.set(key, value)
    this.record.attributes.set(key, value)
  }
  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>) {
    this.record.events.push({ name, attributes })
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.links.push(...links)
  }
}

export const makeRecorder = () => {
  const spans: Array<RecordedSpan> = []
  const logs: Array<string> = []
  let id = 0
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const record: RecordedSpan = {
        name,
        attributes: new Map(),
        events: [],
        parent: Option.match(parent, { onNone: () => undefined, onSome: (p) => p.spanId }),
        ended: false
      }
      spans.push(record)
      return new RecordingSpan(record, name, parent, context, links, startTime, kind, ++id)
    },
    context: (f) => f()
  })
  const render = (u: unknown): string => typeof u === "string" ? u : Inspectable.format(u)
  const logger = Logger.make(({ cause, logLevel, message }) => {
    const parts = Array.isArray(message) ? message.map(render) : [render(message)]
    logs.push(`${logLevel.label} ${parts.join(" ")}${Cause.isEmpty(cause) ? "" : ` ${Cause.pretty(cause)}`}`)
  })
  const layer = Layer.mergeAll(
    Layer.setTracer(tracer),
    Logger.add(logger),
    Logger.minimumLogLevel(LogLevel.All)
  )
  /** Everything recorded, as one string to search. */
  const dump = () =>
    JSON.stringify({
      spans: spans.map((s) => ({ name: s.name, attributes: [...s.attributes.entries()].map(([k, v]) => [k, String(v)]), events: s.events })),
      logs
    })
  return { spans, logs, layer, dump, provide: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, layer) }
}
