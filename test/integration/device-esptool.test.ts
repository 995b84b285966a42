/**
 * The simulator speaks the real ROM protocol: Espressif's own esptool (PyPI) flashes it without
 * its stub. Then the `command` uploader runs that same esptool as a device's configured upload
 * command, verified by asking the firmware for its version over the console. The test runner
 * installs the pinned esptool (test/fixtures/device/esptool.ts) and passes it in ESPTOOL_PATH.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { md5Hex } from '../../activities/device/rom-protocol';
import type { DeviceUploadResult } from '../../workflows/contracts/device';
import { useDeviceBed } from '../fixtures/device/bed';
import { makeImage } from '../fixtures/device/harness';

const ESPTOOL_FLAGS = ['--chip', 'esp32s3', '--no-stub', '--before', 'no_reset', '--after', 'no_reset'];

const esptool = process.env.ESPTOOL_PATH;
if (!esptool) throw new Error('ESPTOOL_PATH is not set: run this test through `npm test`, which installs esptool');

const bed = useDeviceBed({
  boards: [
    {
      id: 'k1-cmd',
      config: {
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
      },
    },
  ],
});

test('esptool write_flash (no stub) flashes the simulator and verifies the hash', () => {
  const image = makeImage(40 * 1024 + 123);
  const rig = bed.rig();
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
  const image = makeImage(20 * 1024);
  const handle = await bed.orch.start({
    name: 'esptool-upload',
    steps: [{ id: 'upload', kind: 'device_upload', device: 'k1-cmd', artifact: image.file }],
  });
  const result = await handle.result();
  const out = result.steps.upload?.output as DeviceUploadResult;
  assert.equal(out.uploader, 'command');
  assert.equal(out.bootLine, `FW ${md5Hex(image.bytes).slice(0, 8)}`);
  const received = bed
    .rig()
    .events()
    .filter((e) => e.event === 'image');
  assert.ok(readFileSync(received.at(-1)!.file as string).equals(image.bytes));
});
