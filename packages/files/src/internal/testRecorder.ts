/**
 * The code of `CdfTest`: the recording tracer and logger, and the runners that settle with the typed failure.
 *
 * @internal
 */
import { Cause, Effect, Either, Exit, HashMap, Inspectable, Layer, Logger, LogLevel, Option, Tracer } from "effect"
import type * as Context from "effect/Context"
import { rejection } from "./promise.js"

/** @internal */
export interface RecordedEvent {
  readonly name: string
  readonly attributes: Readonly<Record<string, unknown>>
}

/** @internal */
export interface RecordedSpan {
  /** `span-1`, `span-2`, ... in the order the spans started. */
  readonly spanId: string
  readonly name: string
  /** The `spanId` of the parent span, if any. */
  readonly parent: string | undefined
  readonly kind: Tracer.SpanKind
  readonly attributes: ReadonlyMap<string, unknown>
  readonly events: ReadonlyArray<RecordedEvent>
  readonly status: Tracer.SpanStatus
  /** `true` once the span has ended. */
  readonly ended: boolean
}

/** @internal */
export interface RecordedLog {
  readonly level: LogLevel.Literal
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
  readonly cause: string | undefined
}

/** @internal */
export interface Recorder {
  /** Every span started under `layer`, in the order they started. */
  readonly spans: ReadonlyArray<RecordedSpan>
  /** Every log line written under `layer`, at every level. */
  readonly logs: ReadonlyArray<RecordedLog>
  /** Sets the recording tracer, adds the recording logger, and lowers the minimum log level to `All`. */
  readonly layer: Layer.Layer<never>
  /** `Effect.provide(self, layer)`, for `pipe`. */
  readonly provide: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Everything recorded (span names, attributes, events; log lines with annotations and causes) as one string. */
  readonly dump: () => string
  /** Forgets what was recorded so far. */
  readonly clear: () => void
}

const render = (u: unknown): string => typeof u === "string" ? u : Inspectable.format(u)

interface MutableRecord {
  spanId: string
  name: string
  parent: string | undefined
  kind: Tracer.SpanKind
  attributes: Map<string, unknown>
  events: Array<RecordedEvent>
  status: Tracer.SpanStatus
  ended: boolean
}

class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly traceId = "trace"
  readonly sampled = true
  readonly links: Array<Tracer.SpanLink>
  constructor(
    readonly record: MutableRecord,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>
  ) {
    this.links = [...links]
  }
  get name() {
    return this.record.name
  }
  get spanId() {
    return this.record.spanId
  }
  get kind() {
    return this.record.kind
  }
  get status() {
    return this.record.status
  }
  get attributes(): ReadonlyMap<string, unknown> {
    return this.record.attributes
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.record.status = { _tag: "Ended", startTime: this.record.status.startTime, endTime, exit }
    this.record.ended = true
  }
  attribute(key: string, value: unknown) {
    this.record.attributes.set(key, value)
  }
  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>) {
    this.record.events.push({ name, attributes: attributes ?? {} })
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.links.push(...links)
  }
}

/** @internal */
export const makeRecorder = (): Recorder => {
  const spans: Array<MutableRecord> = []
  const logs: Array<RecordedLog> = []
  let started = 0
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const record: MutableRecord = {
        spanId: `span-${++started}`,
        name,
        parent: Option.match(parent, { onNone: () => undefined, onSome: (p) => p.spanId }),
        kind,
        attributes: new Map(),
        events: [],
        status: { _tag: "Started", startTime },
        ended: false
      }
      spans.push(record)
      return new RecordingSpan(record, parent, context, links)
    },
    context: (f) => f()
  })
  const logger = Logger.make(({ annotations, cause, logLevel, message }) => {
    logs.push({
      level: logLevel._tag,
      message: (Array.isArray(message) ? message : [message]).map(render).join(" "),
      annotations: Object.fromEntries(HashMap.toEntries(annotations)),
      cause: Cause.isEmpty(cause) ? undefined : Cause.pretty(cause)
    })
  })
  const layer = Layer.mergeAll(Layer.setTracer(tracer), Logger.add(logger), Logger.minimumLogLevel(LogLevel.All))
  const dump = () =>
    JSON.stringify({
      spans: spans.map((s) => ({
        name: s.name,
        attributes: [...s.attributes.entries()].map(([k, v]) => [k, render(v)]),
        events: s.events.map((e) => ({ name: e.name, attributes: render(e.attributes) })),
        exit: s.status._tag === "Ended" && Exit.isFailure(s.status.exit) ? Cause.pretty(s.status.exit.cause) : undefined
      })),
      logs: logs.map((l) => ({ ...l, annotations: render(l.annotations) }))
    })
  return {
    spans,
    logs,
    layer,
    provide: (self) => Effect.provide(self, layer),
    dump,
    clear: () => {
      spans.length = 0
      logs.length = 0
    }
  }
}

/** @internal */
export const runFailure = <A, E>(effect: Effect.Effect<A, E>): Promise<E> =>
  runEither(effect).then(Either.match({
    onLeft: (error) => error,
    onRight: (value) => {
      throw new Error(`expected the effect to fail, but it succeeded with ${render(value)}`)
    }
  }))

/** @internal */
export const runEither = <A, E>(effect: Effect.Effect<A, E>): Promise<Either.Either<A, E>> =>
  Effect.runPromiseExit(effect).then((exit) => {
    if (Exit.isSuccess(exit)) return Either.right(exit.value)
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) return Either.left(failure.value)
    throw rejection(exit.cause, undefined)
  })

/** @internal */
export const runPromise = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromiseExit(effect).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    throw rejection(exit.cause, undefined)
  })
