/**
 * Tracing end to end: the API and an orchestrator worker, each with the Tracing its process
 * builds from OTEL_EXPORTER_OTLP_ENDPOINT, export to a local OTLP/HTTP receiver (a plain HTTP
 * server taking the JSON encoding the exporter sends). One POST /workflows of a two-step spec
 * gives one trace: the HTTP server span, the client's StartWorkflow, the workflow's RunWorkflow
 * and each step's StartActivity and RunActivity, parent to child. Also: the replay corpus replays
 * with the tracing interceptors in the bundle, and tracing stays off without an endpoint.
 *
 * Its own file: the context manager and propagator tracing installs are process-wide.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { StartRunResponse } from '../../api/workflows/run-views';
import { ConfigError } from '../../config/config-errors';
import { SERVICE_NAMES, tracingFromEnv, type Tracing } from '../../temporal/tracing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { RUN_SPEC_WORKFLOW, type RunResult } from '../../workflows/contracts/run';
import { activities as testActivities } from '../fixtures/test-activities';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { testAuth } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv, quietRuntime } from '../helpers/temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from '../helpers/worker';

/** A bound on waits that would otherwise hang the test, not a timing assertion. */
const WAIT_MS = 60_000;
const SPAN_KIND_SERVER = 2;

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
      }>;
    }>;
  }>;
}

const attributesOf = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue]));

/** An OTLP/HTTP collector's traces endpoint, JSON encoding (what exporter-trace-otlp-http sends). */
async function startOtlpReceiver(): Promise<{ server: Server; endpoint: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !req.headers['content-type']?.includes('json')) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraces;
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attributesOf(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              kind: s.kind,
              attributes: attributesOf(s.attributes),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${port}`, spans };
}

describe('tracing over OTLP', () => {
  let env: TestWorkflowEnvironment;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let apiTracing: Tracing;
  let workerTracing: Tracing;
  let api: TestApp;
  let stopWorker: () => Promise<void>;
  const auth = testAuth();

  before(async () => {
    quietRuntime();
    receiver = await startOtlpReceiver();
    const otelEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
    apiTracing = tracingFromEnv(SERVICE_NAMES.api, otelEnv) as Tracing;
    workerTracing = tracingFromEnv(SERVICE_NAMES.orchestratorWorker, otelEnv) as Tracing;
    assert.ok(apiTracing && workerTracing);
    env = await createTestEnv();
    const temporal = testTemporalConfig(env, `tracing-${randomUUID()}`);
    // No prebuilt bundle: the worker bundles its workflows with the tracing interceptors, as in production.
    const worker = await createOrchestratorWorker({
      connection: env.nativeConnection,
      temporal,
      config: loadOrchestratorWorkerConfig(testDataEnv()),
      activities: testActivities,
      tracing: workerTracing,
    });
    stopWorker = runInProcess(worker);
    // No client given: the API connects its own, with the tracing plugin.
    api = await startTestApp({ temporal, auth: auth.auth, tracing: apiTracing });
  });

  after(async () => {
    await api?.stop();
    await stopWorker?.();
    await env?.teardown();
    await Promise.all([apiTracing?.shutdown(), workerTracing?.shutdown()]);
    await new Promise((resolve) => receiver?.server.close(resolve));
  });

  test('one trace runs from POST /workflows through the workflow to both activities', async () => {
    const res = await fetch(`${api.baseUrl}/workflows`, {
      method: 'POST',
      headers: { ...auth.header('admin'), 'content-type': 'application/json' },
      body: JSON.stringify({
        spec: {
          name: 'traced',
          steps: [
            { id: 'first', kind: 'activity', activity: 'test.echo', args: { n: 1 } },
            { id: 'second', kind: 'activity', activity: 'test.echo', args: { n: 2 } },
          ],
        },
      }),
    });
    const started = (await res.json()) as StartRunResponse;
    assert.equal(res.status, 201, JSON.stringify(started));
    // A client without tracing, so waiting adds no spans.
    const handle = env.client.workflow.getHandle(started.workflowId);
    const result = (await handle.result()) as RunResult;
    assert.deepEqual(Object.keys(result.steps).sort(), ['first', 'second']);

    // The workflow's spans leave the sandbox through a sink once its last task completes; flush until they arrived.
    const byName = (name: string) => receiver.spans.filter((s) => s.name === name);
    const runName = `RunWorkflow:${RUN_SPEC_WORKFLOW}`;
    await waitFor(
      'the spans of the run at the receiver',
      async () => {
        await Promise.all([apiTracing.forceFlush(), workerTracing.forceFlush()]);
        return (
          receiver.spans.some((s) => s.kind === SPAN_KIND_SERVER && s.name === 'POST /workflows') &&
          byName(runName).some((s) => s.attributes.temporalWorkflowId === started.workflowId) &&
          byName('RunActivity:spec.test.echo').length >= 2
        );
      },
      WAIT_MS,
    );

    const http = receiver.spans.find((s) => s.kind === SPAN_KIND_SERVER && s.name === 'POST /workflows');
    assert.ok(http);
    assert.equal(http.service, SERVICE_NAMES.api);
    assert.equal(http.parentSpanId, undefined, 'the HTTP span is the root: the request carried no traceparent');
    assert.equal(http.attributes['http.route'], '/workflows');
    assert.equal(http.attributes['http.response.status_code'], 201);

    const trace = receiver.spans.filter((s) => s.traceId === http.traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const inTrace = (name: string) => trace.filter((s) => s.name === name);

    const [start] = inTrace(`StartWorkflow:${RUN_SPEC_WORKFLOW}`);
    assert.ok(start, `no StartWorkflow span in the trace: ${trace.map((s) => s.name).join(', ')}`);
    assert.equal(start.service, SERVICE_NAMES.api);
    assert.equal(parentOf(start), http);

    const [run] = inTrace(runName);
    assert.ok(run, `no RunWorkflow span in the trace: ${trace.map((s) => s.name).join(', ')}`);
    assert.equal(run.service, SERVICE_NAMES.orchestratorWorker);
    assert.equal(run.attributes.temporalWorkflowId, started.workflowId);
    assert.equal(parentOf(run), start);

    const activities = inTrace('RunActivity:spec.test.echo');
    assert.equal(activities.length, 2, 'one RunActivity span per step');
    for (const activity of activities) {
      assert.equal(activity.service, SERVICE_NAMES.orchestratorWorker);
      const scheduled = parentOf(activity);
      assert.equal(scheduled?.name, 'StartActivity:spec.test.echo');
      assert.equal(parentOf(scheduled), run);
    }
    assert.notEqual(activities[0]?.spanId, activities[1]?.spanId);

    // One tree: every span of the trace but the root hangs from a span of the trace.
    const orphans = trace.filter((s) => s !== http && !parentOf(s)).map((s) => s.name);
    assert.deepEqual(orphans, []);

    // Turning tracing off again is safe: the traced run replays on the bundle without the interceptors.
    await Worker.runReplayHistory({ workflowBundle: await bundleWorkflowsOnce() }, await handle.fetchHistory());
  });
});

describe('the tracing workflow interceptors', () => {
  test('change no history: the replay corpus replays with them in the bundle', async () => {
    const tracing = tracingFromEnv(SERVICE_NAMES.orchestratorWorker, {
      // Nothing is exported while replaying; the URL only has to be one.
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    }) as Tracing;
    const noop = () => undefined;
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      plugins: [tracing.temporalPlugin],
      logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
    });
    assert.match(workflowBundle.code, /tracing-interceptors/);

    const dir = path.join(__dirname, '..', 'histories');
    const ids = JSON.parse(readFileSync(path.join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
    const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');
    assert.ok(files.length > 10, `found ${files.length} histories`);
    const histories = files.map((f) => ({
      workflowId: ids[f] as string,
      history: historyFromJSON(JSON.parse(readFileSync(path.join(dir, f), 'utf8'))),
    }));
    const failed: string[] = [];
    let i = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle, plugins: [tracing.temporalPlugin] }, histories)) {
      if (r.error) failed.push(`${files[i]}: ${r.error.message}`);
      i++;
    }
    assert.equal(i, files.length);
    assert.deepEqual(failed, []);
    await tracing.shutdown();
  });
});

describe('tracing settings', () => {
  test('off without an endpoint, or when OTEL_SDK_DISABLED says so', () => {
    assert.equal(tracingFromEnv(SERVICE_NAMES.api, {}), undefined);
    assert.equal(tracingFromEnv(SERVICE_NAMES.api, { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), undefined);
    assert.equal(
      tracingFromEnv(SERVICE_NAMES.api, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_SDK_DISABLED: 'true',
      }),
      undefined,
    );
  });

  test('the endpoint gets /v1/traces; a traces endpoint is used as is', async () => {
    const base = tracingFromEnv(SERVICE_NAMES.api, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    assert.equal(base?.tracesUrl, 'http://collector:4318/v1/traces');
    const own = tracingFromEnv(SERVICE_NAMES.api, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/ingest',
    });
    assert.equal(own?.tracesUrl, 'https://traces.example/ingest');
    await Promise.all([base?.shutdown(), own?.shutdown()]);
  });

  test('a bad endpoint stops start-up naming its key', () => {
    assert.throws(
      () => tracingFromEnv(SERVICE_NAMES.api, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.key === 'OTEL_EXPORTER_OTLP_ENDPOINT'),
    );
  });
});
