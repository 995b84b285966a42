/**
 * The pieces of logs and metrics that need no server: what the JSON logger censors, the SDK
 * logger adapter, the request URL redaction, the HTTP metrics' route templates, the scrape cache
 * the log and metrics settings read from the environment, and a metrics port already taken.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { MetricMeter } from '@temporalio/common';
import type { DestinationStream } from 'pino';
import { timedUpload } from '../../activities/metrics/device-metrics';
import { loadApiLogConfig } from '../../api/logging/log-config';
import { redactUrl } from '../../api/logging/redact-url';
import { loadMetricsCacheMs } from '../../api/metrics/metrics-config';
import { Cached } from '../../api/metrics/cached';
import { RouteTemplates, UNMATCHED_ROUTE } from '../../api/metrics/route-templates';
import { ConfigError } from '../../config/config-errors';
import { createJsonLogger } from '../../config/json-logger';
import { installWorkerRuntime } from '../../workers/telemetry/runtime';
import { PinoSdkLogger } from '../../workers/telemetry/sdk-logger';
import { loadWorkerTelemetryConfig } from '../../workers/telemetry/telemetry-config';

/** A logger writing synchronously into an array of parsed lines. */
function capture(level: 'trace' | 'info' = 'trace') {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  }) as unknown as DestinationStream;
  return { lines, logger: createJsonLogger({ name: 'test', level, destination }) };
}

test('the JSON logger censors credentials at the top, one level down, and in HTTP headers', () => {
  const { lines, logger } = capture();
  logger.info(
    {
      token: 't0p',
      apiKey: 'k3y',
      taskToken: 'dGFzaw==',
      meta: { authorization: 'Bearer abc', password: 'pw', keep: 'visible' },
      req: { headers: { authorization: 'Bearer abc', cookie: 'agent_session=abc', accept: 'text/html' } },
      res: { headers: { 'set-cookie': 'agent_session=abc' } },
    },
    'hello',
  );
  const [line] = lines;
  assert.ok(line);
  assert.equal(line.msg, 'hello');
  assert.equal(line.level, 'info');
  assert.equal(line.name, 'test');
  assert.equal(typeof line.time, 'string');
  assert.equal(line.token, '[redacted]');
  assert.equal(line.apiKey, '[redacted]');
  assert.equal(line.taskToken, '[redacted]');
  assert.deepEqual(line.meta, { authorization: '[redacted]', password: '[redacted]', keep: 'visible' });
  assert.deepEqual(line.req, { headers: { authorization: '[redacted]', cookie: '[redacted]', accept: 'text/html' } });
  assert.deepEqual(line.res, { headers: { 'set-cookie': '[redacted]' } });
  for (const secret of ['t0p', 'k3y', 'dGFzaw==', 'Bearer abc', 'agent_session=abc', '"pw"']) {
    assert.ok(!JSON.stringify(line).includes(secret), secret);
  }
});

test('the SDK logger writes each level with its context; an activity run id is `runId`; worker options lose their codec', () => {
  const { lines, logger } = capture();
  const sdk = new PinoSdkLogger(logger);
  sdk.debug('Workflow started', { workflowId: 'w', runId: 'r', workflowType: 'runSpec', sdkComponent: 'worker' });
  sdk.warn('Activity failed', {
    workflowId: 'w',
    workflowRunId: 'r',
    activityType: 'llmChat',
    taskToken: 'secret',
    error: new Error('boom'),
  });
  sdk.log('TRACE', 'tick');
  sdk.debug('Creating worker', {
    options: { taskQueue: 'q', loadedDataConverter: { payloadCodecs: [{ current: { id: 'k1', key: 'c2VjcmV0' } }] } },
  });
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [
      ['debug', 'Workflow started'],
      ['warn', 'Activity failed'],
      ['trace', 'tick'],
      ['debug', 'Creating worker'],
    ],
  );
  assert.equal(lines[0]?.workflowId, 'w');
  assert.equal(lines[0]?.runId, 'r');
  assert.equal(lines[1]?.runId, 'r');
  assert.equal(lines[1]?.workflowRunId, undefined);
  assert.equal(lines[1]?.taskToken, '[redacted]');
  assert.equal((lines[1]?.error as { message?: string }).message, 'boom', 'errors keep their message');
  assert.deepEqual(lines[3]?.options, { taskQueue: 'q', loadedDataConverter: '[redacted]' });
});

test('the SDK logger drops lines below its level', () => {
  const { lines, logger } = capture('info');
  const sdk = new PinoSdkLogger(logger);
  sdk.debug('quiet');
  sdk.info('loud');
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['loud'],
  );
});

test('request URLs lose signed link tokens and credential-looking query values', () => {
  assert.equal(redactUrl('/approvals/links/abc.def'), '/approvals/links/[redacted]');
  assert.equal(redactUrl('/approvals/links/abc?x=1'), '/approvals/links/[redacted]?x=1');
  assert.equal(redactUrl('/workflows?spec=a&nextPageToken=xyz'), '/workflows?spec=a&nextPageToken=[redacted]');
  assert.equal(
    redactUrl('/x?access_token=1&api_key=2&sig=3&code=4&flag'),
    '/x?access_token=[redacted]&api_key=[redacted]&sig=[redacted]&code=[redacted]&flag',
  );
  assert.equal(redactUrl('/workflows/spec:run-1/steps'), '/workflows/spec:run-1/steps');
});

test('a request is labelled with its route template; a literal path wins; unknown paths share one label', () => {
  const routes = new RouteTemplates(['/devices/{id}', '/devices/metrics', '/workflows/{id}', '/workflows', '/metrics']);
  assert.equal(routes.match('/workflows/release:42'), '/workflows/{id}');
  assert.equal(routes.match('/workflows/'), '/workflows');
  assert.equal(routes.match('/devices/metrics'), '/devices/metrics');
  assert.equal(routes.match('/devices/k1'), '/devices/{id}');
  assert.equal(routes.match('/nope/release:42'), UNMATCHED_ROUTE);
});

test('the scrape cache reads once per period and forgets a failed read', async () => {
  let now = 0;
  let reads = 0;
  let fail = false;
  const cached = new Cached(
    1000,
    async () => {
      reads++;
      if (fail) throw new Error('visibility down');
      return reads;
    },
    () => now,
  );
  assert.equal(await cached.get(), 1);
  now = 999;
  assert.equal(await cached.get(), 1);
  now = 1000;
  fail = true;
  await assert.rejects(cached.get(), /visibility down/);
  fail = false;
  assert.equal(await cached.get(), 3, 'the failure was not kept');
});

test('worker telemetry settings: defaults, and a bad value names its key', () => {
  assert.deepEqual(loadWorkerTelemetryConfig({}), { logFormat: 'json', logLevel: 'WARN' });
  assert.deepEqual(
    loadWorkerTelemetryConfig({
      LOG_FORMAT: 'text',
      WORKER_LOG_LEVEL: 'debug',
      WORKER_METRICS_ADDRESS: '127.0.0.1:9464',
    }),
    { logFormat: 'text', logLevel: 'DEBUG', metricsAddress: '127.0.0.1:9464' },
  );
  assert.equal(loadWorkerTelemetryConfig({ WORKER_METRICS_ADDRESS: '[::1]:9464' }).metricsAddress, '[::1]:9464');
  for (const [key, value] of [
    ['WORKER_METRICS_ADDRESS', '9464'],
    ['WORKER_METRICS_ADDRESS', '127.0.0.1:0'],
    ['WORKER_METRICS_ADDRESS', 'http://127.0.0.1:9464'],
    ['WORKER_LOG_LEVEL', 'LOUD'],
    ['LOG_FORMAT', 'xml'],
  ] as const) {
    assert.throws(
      () => loadWorkerTelemetryConfig({ [key]: value }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.key === key),
      `${key}=${value}`,
    );
  }
});

test('API log and metrics settings: defaults, and a bad value names its key', () => {
  assert.deepEqual(loadApiLogConfig({}), { format: 'json', level: 'info' });
  assert.deepEqual(loadApiLogConfig({ LOG_FORMAT: 'text', LOG_LEVEL: 'WARN' }), { format: 'text', level: 'warn' });
  assert.equal(loadMetricsCacheMs({}), 10_000);
  assert.equal(loadMetricsCacheMs({ METRICS_CACHE_MS: '0' }), 0);
  for (const [load, key, value] of [
    [loadApiLogConfig, 'LOG_LEVEL', 'chatty'],
    [loadApiLogConfig, 'LOG_FORMAT', 'xml'],
    [loadMetricsCacheMs, 'METRICS_CACHE_MS', '-1'],
  ] as const) {
    assert.throws(
      () => load({ [key]: value }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.key === key),
      `${key}=${value}`,
    );
  }
});

test('a worker whose metrics port is taken refuses to start, naming WORKER_METRICS_ADDRESS', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as net.AddressInfo;
  try {
    assert.throws(
      () =>
        installWorkerRuntime('test worker', {
          logFormat: 'json',
          logLevel: 'ERROR',
          metricsAddress: `127.0.0.1:${port}`,
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.key === 'WORKER_METRICS_ADDRESS' && p.message.includes(`127.0.0.1:${port}`)),
    );
  } finally {
    taken.close();
  }
});

test('a device upload attempt is counted and timed under the device and its result, a failure too', async () => {
  const recorded: Array<[string, number, Record<string, unknown>]> = [];
  const meter = {
    createCounter: (name: string) => ({ add: (v: number, tags = {}) => recorded.push([name, v, tags]) }),
    createHistogram: (name: string) => ({ record: (v: number, tags = {}) => recorded.push([name, v, tags]) }),
  } as unknown as MetricMeter;
  assert.equal(await timedUpload(meter, 'k1', async () => 'ok'), 'ok');
  await assert.rejects(
    timedUpload(meter, 'k1', async () => {
      throw new Error('verify failed');
    }),
    /verify failed/,
  );
  assert.deepEqual(
    recorded.map(([name, value, tags]) => [name, name.endsWith('_seconds') ? value >= 0 : value, tags]),
    [
      ['agent_device_uploads', 1, { device: 'k1', result: 'completed' }],
      ['agent_device_upload_duration_seconds', true, { device: 'k1', result: 'completed' }],
      ['agent_device_uploads', 1, { device: 'k1', result: 'failed' }],
      ['agent_device_upload_duration_seconds', true, { device: 'k1', result: 'failed' }],
    ],
  );
});
