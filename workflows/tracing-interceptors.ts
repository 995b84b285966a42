/**
 * Workflow interceptors for tracing; temporal/tracing.ts puts this module in the bundle only when
 * tracing is on. Spans: RunWorkflow (child of the client's StartWorkflow), StartActivity,
 * StartChildWorkflow, ContinueAsNew, HandleSignal and HandleUpdate, carried to activities and
 * children in the `_tracer-data` header that @temporalio/interceptors-opentelemetry's client and
 * activity interceptors read and write, and out of the sandbox through its `exporter` sink.
 *
 * Not that package's own workflow interceptors, because these must change nothing a run does, so
 * tracing can be turned on or off under runs in flight (the replay corpus replays either way):
 * - each returns the very promise `next` returned: the package's wrappers await it, which hands
 *   every result to the workflow a few microtasks late and reorders concurrent branches, signals
 *   and updates (8 of the corpus's 50 histories fail to replay with them);
 * - span ids come from the run id and a counter, never from Math.random: in the sandbox that is
 *   the run's seeded random, and drawing from it would shift every later uuid4().
 * The only trace left in the history is the header on the commands, which replay does not compare.
 */
// First, for its side effect: the sandbox globals (performance) the OpenTelemetry SDK reads on load.
import '@temporalio/interceptors-opentelemetry/lib/workflow';
import * as otel from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, SimpleSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import {
  extractContextFromHeaders,
  headersWithContext,
} from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { ContextManager } from '@temporalio/interceptors-opentelemetry/lib/workflow/context-manager';
import { SpanExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/span-exporter';
import {
  ContinueAsNew,
  workflowInfo,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** 32 bits of a string, mixed (a murmur3-style finaliser over FNV-1a); the seed picks the lane. */
function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hexId(text: string, lanes: number): string {
  let id = '';
  for (let lane = 0; lane < lanes; lane++) id += hash32(text, lane).toString(16).padStart(8, '0');
  // All zeros is the invalid id.
  return /^0+$/.test(id) ? `${id.slice(0, -1)}1` : id;
}

/** Ids from the run id and a counter: the same on every replay, and no draw from the run's random. */
class RunScopedIds implements IdGenerator {
  private next = 0;
  generateTraceId(): string {
    return hexId(`${workflowInfo().runId}/trace/${this.next++}`, 4);
  }
  generateSpanId(): string {
    return hexId(`${workflowInfo().runId}/span/${this.next++}`, 2);
  }
}

let tracer: otel.Tracer | undefined;
let contextManager: ContextManager | undefined;

/** One provider per run (module state lives per workflow), exporting each ended span through the sink. */
function getTracer(): otel.Tracer {
  if (!tracer) {
    contextManager = new ContextManager();
    const provider = new BasicTracerProvider({
      idGenerator: new RunScopedIds(),
      spanProcessors: [new SimpleSpanProcessor(new SpanExporter())],
    });
    provider.register({ contextManager, propagator: new W3CTraceContextPropagator() });
    tracer = provider.getTracer('durable-agents-workflow');
  }
  return tracer;
}

/**
 * Runs `fn` with a new span current and ends the span when the promise `fn` returns settles;
 * returns that same promise, so the caller sees its result exactly when it would untraced.
 */
function traced<T>(
  name: string,
  parent: otel.Context,
  fn: () => Promise<T>,
  attributes: otel.Attributes = {},
  benign: (err: unknown) => boolean = () => false,
): Promise<T> {
  const span = getTracer().startSpan(name, { attributes }, parent);
  const end = (err?: unknown) => {
    if (err === undefined || benign(err)) span.setStatus({ code: otel.SpanStatusCode.OK });
    else {
      span.setStatus({ code: otel.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      if (err instanceof Error) span.recordException(err);
    }
    span.end();
  };
  let result: Promise<T>;
  try {
    result = otel.context.with(otel.trace.setSpan(parent, span), fn);
  } catch (err) {
    end(err);
    throw err;
  }
  // Both outcomes handled: observing must not leave a rejected promise of its own. (It also marks
  // `result`'s rejection handled: a run that leaves a failure unawaited, a bug, is not failed for it.)
  result.then(
    () => end(),
    (err: unknown) => end(err ?? 'failed'),
  );
  return result;
}

const isContinueAsNew = (err: unknown) => err instanceof ContinueAsNew;
/** The caller's context from the `_tracer-data` header (through the propagator getTracer registers). */
function fromHeaders(headers: Parameters<typeof extractContextFromHeaders>[0]): otel.Context {
  getTracer();
  return extractContextFromHeaders(headers) ?? otel.context.active();
}

class TracingInbound implements WorkflowInboundCallsInterceptor {
  execute: NonNullable<WorkflowInboundCallsInterceptor['execute']> = (input, next) => {
    const { workflowType, workflowId, runId } = workflowInfo();
    return traced(
      `RunWorkflow:${workflowType}`,
      fromHeaders(input.headers),
      () => next(input),
      { temporalWorkflowId: workflowId, run_id: runId },
      isContinueAsNew,
    );
  };

  handleSignal: NonNullable<WorkflowInboundCallsInterceptor['handleSignal']> = (input, next) =>
    traced(`HandleSignal:${input.signalName}`, fromHeaders(input.headers), () => next(input));

  handleUpdate: NonNullable<WorkflowInboundCallsInterceptor['handleUpdate']> = (input, next) =>
    traced(`HandleUpdate:${input.name}`, fromHeaders(input.headers), () => next(input), {
      temporalUpdateId: input.updateId,
    });
}

class TracingOutbound implements WorkflowOutboundCallsInterceptor {
  scheduleActivity: NonNullable<WorkflowOutboundCallsInterceptor['scheduleActivity']> = (input, next) =>
    traced(`StartActivity:${input.activityType}`, otel.context.active(), () =>
      next({ ...input, headers: headersWithContext(input.headers) }),
    );

  scheduleLocalActivity: NonNullable<WorkflowOutboundCallsInterceptor['scheduleLocalActivity']> = (input, next) =>
    traced(`StartActivity:${input.activityType}`, otel.context.active(), () =>
      next({ ...input, headers: headersWithContext(input.headers) }),
    );

  startChildWorkflowExecution: NonNullable<WorkflowOutboundCallsInterceptor['startChildWorkflowExecution']> = (
    input,
    next,
  ) =>
    traced(`StartChildWorkflow:${input.workflowType}`, otel.context.active(), () =>
      next({ ...input, headers: headersWithContext(input.headers) }),
    );

  continueAsNew: NonNullable<WorkflowOutboundCallsInterceptor['continueAsNew']> = (input, next) =>
    traced(
      `ContinueAsNew:${input.options.workflowType ?? workflowInfo().workflowType}`,
      otel.context.active(),
      () => next({ ...input, headers: headersWithContext(input.headers) }),
      {},
      isContinueAsNew,
    );
}

class TracingInternals implements WorkflowInternalsInterceptor {
  dispose: NonNullable<WorkflowInternalsInterceptor['dispose']> = (input, next) => {
    contextManager?.disable();
    next(input);
  };
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new TracingInbound()],
  outbound: [new TracingOutbound()],
  internals: [new TracingInternals()],
});
