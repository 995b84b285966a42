/**
 * The simulator speaks the real ROM protocol: Espressif's own esptool (PyPI) flashes it without
 * its stub. Then the `command` uploader runs that same esptool as a device's configured upload
 * command, verified by asking the firmware for its version over the console. The test runner
 * installs the pinned esptool (test/fixtures/device/esptool.ts) and passes it in ESPTOOL_PATH.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { md5Hex } from '../../activities/device/rom-protocol';
import type { DeviceUploadResult } from '../../workflows/contracts/device';
import {
  makeImage,
  simulatedDevice,
  startDeviceWorker,
  writeDevicesConfig,
  type RunningDeviceWorker,
} from '../fixtures/device/harness';
import { createDeviceRig, type DeviceRig } from '../fixtures/device/rig';
import { startOrchestrator, type Orchestrator } from '../helpers/orchestrator';
import { createTestEnv } from '../helpers/temporal';

const ESPTOOL_FLAGS = ['--chip', 'esp32s3', '--no-stub', '--before', 'no_reset', '--after', 'no_reset'];

let esptool: string;
let rig: DeviceRig;

before(async () => {
  const fromRunner = process.env.ESPTOOL_PATH;
  if (!fromRunner) throw new Error('ESPTOOL_PATH is not set: run this test through `npm test`, which installs esptool');
  esptool = fromRunner;
  rig = createDeviceRig();
  await rig.start();
});

after(async () => {
  await rig?.stop();
});

test('esptool write_flash (no stub) flashes the simulator and verifies the hash', () => {
  const image = makeImage(40 * 1024 + 123);
  const run = spawnSync(
    esptool,
    ['--port', rig.devicePath, '--baud', '115200', ...ESPTOOL_FLAGS, 'write_flash', '0x10000', image.file],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(run.status, 0, `esptool failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /Connected to ESP32-S3/);
  assert.match(run.stdout, /Hash of data verified/);
  // esptool pads what it writes to a multiple of 4 bytes with 0xFF (erased flash), and hashes that.
  const padded = Buffer.concat([image.bytes, Buffer.alloc((4 - (image.bytes.length % 4)) % 4, 0xff)]);
  const received = rig.events().filter((e) => e.event === 'image');
  assert.equal(received.at(-1)?.md5, md5Hex(padded));
  assert.ok(readFileSync(received.at(-1)!.file as string).equals(padded));
  console.log(
    `esptool ${spawnSync(esptool, ['version'], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1)} flashed ${image.bytes.length} bytes into the simulator`,
  );
});

test('the command uploader runs the configured esptool line and verifies over the console', async () => {
  const env: TestWorkflowEnvironment = await createTestEnv();
  const orch: Orchestrator = await startOrchestrator(env);
  let device: RunningDeviceWorker | undefined;
  try {
    const config = writeDevicesConfig(rig.dir, [
      simulatedDevice('k1-cmd', rig.devicePath, {
        uploader: {
          type: 'command',
          argv: [
            esptool,
            '--port',
            '{port}',
            '--baud',
            '{baud}',
            ...ESPTOOL_FLAGS,
            'write_flash',
            '0x10000',
            '{artifact}',
          ],
        },
        // esptool leaves the chip in the loader (no_reset), so there is no boot banner: ask instead.
        verify: { send: 'version', bootLine: '^FW [0-9a-f]{8}$', timeout: '5s' },
      }),
    ]);
    device = await startDeviceWorker(env, orch, config, 'k1-cmd');
    const image = makeImage(20 * 1024);
    const handle = await orch.start({
      name: 'esptool-upload',
      steps: [{ id: 'upload', kind: 'device_upload', device: 'k1-cmd', artifact: image.file }],
    });
    const result = await handle.result();
    const out = result.steps.upload?.output as DeviceUploadResult;
    assert.equal(out.uploader, 'command');
    assert.equal(out.bootLine, `FW ${md5Hex(image.bytes).slice(0, 8)}`);
    const received = rig.events().filter((e) => e.event === 'image');
    assert.ok(readFileSync(received.at(-1)!.file as string).equals(image.bytes));
  } finally {
    await device?.stop();
    await orch.stop();
    await env.teardown();
  }
});
