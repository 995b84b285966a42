/**
 * Tracing over OTLP, off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
 * is set: then each process exports its spans to that collector, and one trace runs from the REST
 * call through the workflow to its activities. The client and activity interceptors are
 * @temporalio/interceptors-opentelemetry's; the workflow's are workflows/tracing-interceptors.ts
 * (why not the package's: see there); the API adds its HTTP server span (api/http/request-tracing.ts).
 *
 * Every process builds its Tracing once at start-up (tracingFromEnv) and hands its plugin to what
 * it creates: `new Client({ plugins })`, `Worker.create({ plugins })`, and bundleWorkflowCode's
 * `plugins` for a bundle built ahead of time (a worker that bundles at start-up adds the workflow
 * interceptors itself). Off, nothing of it loads: no interceptor runs, the bundle is as before.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { ClientPlugin } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { BundlerPlugin, WorkerOptions, WorkerPlugin } from '@temporalio/worker';
import { ConfigError } from '../config/config-errors';

/** The service names the processes report (OTEL_SERVICE_NAME overrides them). */
export const SERVICE_NAMES = {
  api: 'durable-agents-api',
  orchestratorWorker: 'durable-agents-worker',
  deviceWorker: 'durable-agents-device-worker',
  buildWorker: 'durable-agents-build-worker',
} as const;

export type TracingPlugin = ClientPlugin & WorkerPlugin & BundlerPlugin;

/** The workflow interceptors module (workflow code: it runs in the sandbox, from the bundle). */
export const TRACING_WORKFLOW_MODULES = [require.resolve('../workflows/tracing-interceptors')];

export interface Tracing {
  readonly serviceName: string;
  /** Where the spans go: the OTLP/HTTP traces URL. */
  readonly tracesUrl: string;
  /** For spans of our own (the API's HTTP server spans). */
  readonly tracer: Tracer;
  /**
   * For clients, workers and the bundler: the client's and activities' interceptors, the workflow
   * interceptors module and the sink its spans leave the sandbox by; a worker flushes when it stops.
   */
  readonly temporalPlugin: TracingPlugin;
  /** Exports the spans ended so far (they otherwise go in batches, every few seconds). */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting; for the process's last moments. */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL the environment names, or undefined: tracing is off. */
export function tracesUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  // As the OTLP exporter spec says: the traces endpoint is used as is, the base gets /v1/traces.
  const [key, url] = traces
    ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces]
    : base
      ? ['OTEL_EXPORTER_OTLP_ENDPOINT', `${base.replace(/\/+$/, '')}/v1/traces`]
      : [undefined, undefined];
  if (!key || !url) return undefined;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new ConfigError('environment', [
      { key, message: 'must be an http(s) URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318' },
    ]);
  }
  return url;
}

let globalsRegistered = false;

/**
 * Tracing for the process named `serviceName`, or undefined when the environment asks for none
 * (no cost then: nothing is loaded into the workflow bundle, no interceptor runs). A bad endpoint
 * is a ConfigError naming its key. The exporter reads the rest of the standard OTLP settings
 * (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT), the resource OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_SERVICE_NAME, the sampler OTEL_TRACES_SAMPLER, all from process.env.
 */
export function tracingFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const tracesUrl = tracesUrlFromEnv(env);
  if (!tracesUrl) return undefined;
  const resource = Resource.default()
    .merge(new Resource({ [ATTR_SERVICE_NAME]: serviceName }))
    .merge(envDetectorSync.detect());
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The context manager and the propagator are process-wide; the first Tracing of a process
  // installs them (tests run an API and a worker, each with a Tracing of its own, in one process).
  if (!globalsRegistered) {
    provider.register();
    globalsRegistered = true;
  }
  const tracer = provider.getTracer('durable-agents');
  const forceFlush = () => provider.forceFlush();
  const clientInterceptor = new OpenTelemetryWorkflowClientInterceptor({ tracer });
  const workerOptions = <O extends Pick<WorkerOptions, 'interceptors' | 'sinks' | 'workflowsPath'>>(options: O): O => ({
    ...options,
    interceptors: {
      ...options.interceptors,
      activity: [
        ...(options.interceptors?.activity ?? []),
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      // Only when the worker bundles: a prebuilt bundle holds them already (configureBundler) or never will.
      workflowModules: [
        ...(options.interceptors?.workflowModules ?? []),
        ...(options.workflowsPath ? TRACING_WORKFLOW_MODULES : []),
      ],
    },
    sinks: { ...options.sinks, exporter: makeWorkflowExporter(spanProcessor, resource) },
  });
  const temporalPlugin: TracingPlugin = {
    name: 'tracing',
    configureClient(options) {
      const workflow = options.interceptors?.workflow;
      if (workflow !== undefined && !Array.isArray(workflow))
        throw new TypeError('tracing needs an array of workflow client interceptors');
      return {
        ...options,
        interceptors: { ...options.interceptors, workflow: [...(workflow ?? []), clientInterceptor] },
      };
    },
    configureWorker: workerOptions,
    configureReplayWorker: workerOptions,
    configureBundler: (options) => ({
      ...options,
      workflowInterceptorModules: [...(options.workflowInterceptorModules ?? []), ...TRACING_WORKFLOW_MODULES],
    }),
    async runWorker(worker, next) {
      try {
        await next(worker);
      } finally {
        await forceFlush().catch((err: unknown) => {
          console.warn(`${serviceName}: could not export the last spans to ${tracesUrl}: ${(err as Error).message}`);
        });
      }
    },
  };
  return {
    serviceName: String(resource.attributes[ATTR_SERVICE_NAME] ?? serviceName),
    tracesUrl,
    tracer,
    temporalPlugin,
    forceFlush,
    shutdown: () => provider.shutdown(),
  };
}
