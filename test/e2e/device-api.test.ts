/**
 * GET /devices through a real Nest application: queue length, the upload in progress (from its
 * heartbeat), last result and metrics, read from Temporal while uploads run on a simulated board.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Global, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DevicesModule } from '../../api/devices/devices.module';
import type { DevicesResponse, DeviceStatusView } from '../../api/devices/device-views';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../../api/tokens';
import { loadDevicesConfig } from '../../activities/device/devices-file';
import { useDeviceBed } from '../fixtures/device/bed';
import { makeImage } from '../fixtures/device/harness';
import { waitFor } from '../helpers/journal';

let app: INestApplication | undefined;
let base: string;

@Global()
@Module({})
class TestCoreModule {
  static forRoot(e: TestWorkflowEnvironment): DynamicModule {
    const config = {
      address: e.address,
      namespace: e.namespace ?? 'default',
      uiUrl: 'http://127.0.0.1:8233',
      taskQueue: 'unused',
    };
    return {
      module: TestCoreModule,
      providers: [
        { provide: TEMPORAL_CLIENT, useValue: e.client },
        { provide: TEMPORAL_CONFIG, useValue: config },
      ],
      exports: [TEMPORAL_CLIENT, TEMPORAL_CONFIG],
    };
  }
}

// Registered before the bed's own hooks, so the app closes before the bed stops.
after(() => app?.close());

const bed = useDeviceBed({
  boards: [
    { id: 'k1', rig: { blockDelayMs: 15 }, config: { heartbeatTimeout: '1s' } },
    { id: 'k2', serialPath: '/dev/null-board', worker: false },
  ],
  async setUp({ env, configFile }) {
    @Module({
      imports: [TestCoreModule.forRoot(env), DevicesModule.forRoot({ devices: loadDevicesConfig(configFile).devices })],
    })
    class DevicesApp {}
    app = await NestFactory.create(DevicesApp, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  },
});

const getDevices = async (): Promise<DeviceStatusView[]> =>
  ((await (await fetch(`${base}/devices`)).json()) as DevicesResponse).devices;

test('GET /devices shows the queue, the upload in progress, the last result and metrics', async () => {
  const handles = await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      bed.orch.start({
        name: `api-upload-${i}`,
        steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: makeImage(128 * 1024).file }],
      }),
    ),
  );

  // While they run: the upload in progress with its heartbeat progress, the others queued.
  let longestQueue = 0;
  const busy = await waitFor('an upload in progress', async () => {
    const k1 = (await getDevices()).find((d) => d.id === 'k1');
    longestQueue = Math.max(longestQueue, k1?.queue.length ?? 0);
    return k1?.current?.progress && k1.current.progress.percent > 0 ? k1 : undefined;
  });
  assert.equal(busy.queue.pollers, 1, 'one device worker polls the queue');
  assert.equal(busy.current?.activity, 'deviceUpload');
  assert.equal(busy.current?.progress?.totalBytes, 128 * 1024);
  assert.equal(busy.current?.progress?.phase, 'upload');
  const watching = (async () => {
    // Runs wait in the device lock's line (plus any task-queue backlog, refreshed every few seconds).
    for (let i = 0; i < 150 && longestQueue === 0; i++) {
      longestQueue = Math.max(longestQueue, (await getDevices()).find((d) => d.id === 'k1')?.queue.length ?? 0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await Promise.all(handles.map((h) => h.result()));
  await watching;
  assert.ok(longestQueue >= 1, 'the queue length showed uploads waiting');
  // The task-queue backlog in the length is an approximate statistic the server refreshes at its own pace.
  const [k1, k2] = await waitFor('the queue to drain', async () => {
    const all = await getDevices();
    return all[0]?.queue.length === 0 ? all : undefined;
  });
  assert.equal(k1?.current, undefined);
  assert.equal(k1?.lastResult?.status, 'completed');
  assert.equal(k1?.metrics.uploads, 5);
  assert.equal(k1?.metrics.successRate, 1);
  assert.ok((k1?.metrics.meanTimeToUploadMs ?? 0) > 0);
  assert.equal(k2?.queue.pollers, 0, 'nobody serves k2');
  assert.match(k2?.lockError ?? '', /not found|No workflow/i);

  const metrics = await (await fetch(`${base}/devices/metrics`)).text();
  assert.match(metrics, /^device_upload_queue_length\{device="k1"\} 0$/m);
  assert.match(metrics, /^device_uploads_total\{device="k1",result="completed"\} 5$/m);
  assert.match(metrics, /^device_upload_success_ratio\{device="k1"\} 1$/m);
  assert.match(metrics, /^device_upload_mean_seconds\{device="k1"\} \d+(\.\d+)?$/m);

  assert.equal((await fetch(`${base}/devices/k1`)).status, 200);
  const missing = await fetch(`${base}/devices/nope`);
  assert.equal(missing.status, 404);
});
