import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { commandArgv } from '../../activities/device/uploaders/command';
import { loadBuildsConfig } from '../../workers/build-config';
import { ConfigError } from '../../config/config-errors';
import { loadDevicesConfig } from '../../activities/device/devices-file';
import { loadDeviceWorkerConfig } from '../../workers/device-config';

const EXAMPLES = path.resolve(__dirname, '../../examples');

function writeJson(value: unknown, name = 'devices.json'): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'devcfg-')), name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function problems(fn: () => unknown): { source: string; keys: string[]; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return { source: err.source, keys: err.problems.map((p) => p.key), message: err.message };
  }
  assert.fail('expected a ConfigError');
}

test('the example devices.json loads, with the documented defaults', () => {
  const config = loadDevicesConfig(path.join(EXAMPLES, 'devices.json'));
  const k1 = config.devices.find((d) => d.id === 'k1-s3')!;
  assert.equal(k1.uploadTimeoutMs, 300_000);
  assert.deepEqual(k1.retry, {
    maximumAttempts: 3,
    initialInterval: 10_000,
    backoffCoefficient: 2,
    maximumInterval: 60_000,
  });
  assert.equal(k1.uploader.type === 'esp-serial' && k1.uploader.flashOffset, 0x10000);
  assert.equal(k1.uploader.type === 'esp-serial' && k1.uploader.flashSize, 8 * 1024 * 1024);
  const ota = config.devices.find((d) => d.id === 'k1-ota')!;
  assert.equal(ota.uploadTimeoutMs, 300_000, 'upload timeout defaults to 300 s');
  assert.equal(ota.retry.maximumAttempts, 3, 'retry defaults to 3 attempts');
  assert.equal(ota.retry.initialInterval, 10_000, 'backoff starts at 10 s');
  assert.equal(ota.retry.backoffCoefficient, 2);
  assert.equal(config.artifactRoots[0], path.resolve(EXAMPLES, '../firmware/.pio/build'));
});

test('bad device entries are reported with the file and the key', () => {
  const file = writeJson({
    devices: [
      { id: 'k1', uploader: { type: 'esp-serial', blockSize: 1000 }, baudRate: -1 },
      { id: 'k1', otaUrl: 'not a url', uploader: { type: 'http-ota' } },
      { id: 'bad id!', uploader: { type: 'smoke-signals' } },
    ],
  });
  const p = problems(() => loadDevicesConfig(file));
  assert.equal(p.source, file);
  for (const key of [
    'devices[0].baudRate',
    'devices[0].uploader.blockSize',
    'devices[1].otaUrl',
    'devices[2].id',
    'devices[2].uploader.type',
  ]) {
    assert.ok(p.keys.includes(key), `${key} is named (got ${p.keys.join(', ')})`);
  }
  assert.match(p.message, new RegExp(`invalid configuration in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

test('cross-field rules: serial uploads need a port, duplicate ids are refused', () => {
  const file = writeJson({
    devices: [
      { id: 'a', uploader: { type: 'esp-serial' } },
      {
        id: 'a',
        serialPath: '/dev/ttyUSB0',
        uploader: { type: 'command', argv: ['esptool', '--port', '{port}', '{otaUrl}'] },
        verify: { bootLine: '(' },
      },
    ],
  });
  const p = problems(() => loadDevicesConfig(file));
  assert.ok(p.keys.includes('devices[0].serialPath'));
  assert.ok(p.keys.includes('devices[1].id'));
  assert.ok(p.keys.includes('devices[1].uploader.argv'));
  assert.ok(p.keys.includes('devices[1].verify.bootLine'));
});

test('unreadable and non-JSON files name the file', () => {
  assert.equal(problems(() => loadDevicesConfig('/nonexistent/devices.json')).keys[0], '(file)');
  const p = problems(() => loadDevicesConfig(writeJson('{ "devices": [')));
  assert.match(p.message, /not valid JSON/);
});

test('the worker picks its device by DEVICE_ID and says which ids exist', () => {
  const file = path.join(EXAMPLES, 'devices.json');
  assert.equal(loadDeviceWorkerConfig({ DEVICES_CONFIG: file, DEVICE_ID: 'k1-ota' }).device.id, 'k1-ota');
  const missing = problems(() => loadDeviceWorkerConfig({ DEVICES_CONFIG: file }));
  assert.deepEqual(missing.keys, ['DEVICE_ID']);
  assert.match(missing.message, /k1-s3, k1-ota, k1-esptool/);
  assert.match(
    problems(() => loadDeviceWorkerConfig({ DEVICES_CONFIG: file, DEVICE_ID: 'nope' })).message,
    /no device "nope"/,
  );
});

test('a command uploader fills in only its placeholders, one argv element each', () => {
  const device = loadDevicesConfig(path.join(EXAMPLES, 'devices.json')).devices.find((d) => d.id === 'k1-esptool')!;
  const argv = commandArgv({ device, artifact: '/builds/a b; rm -rf /.bin' });
  assert.deepEqual(argv, [
    'esptool',
    '--chip',
    'esp32s3',
    '--port',
    '/dev/ttyUSB1',
    '--baud',
    '921600',
    'write-flash',
    '0x10000',
    '/builds/a b; rm -rf /.bin',
  ]);
});

test('the example builds.json loads; bad workspaces name the key', () => {
  const builds = loadBuildsConfig(path.join(EXAMPLES, 'builds.json'));
  assert.equal(builds.workspaces['k1-firmware']?.path, path.resolve(EXAMPLES, '../firmware'));
  const file = writeJson(
    { workspaces: { fw: { path: '.', command: [], artifact: 'x', targets: ['bad target'] } } },
    'builds.json',
  );
  const p = problems(() => loadBuildsConfig(file));
  assert.equal(p.source, file);
  assert.ok(p.keys.includes('workspaces.fw.command'));
  assert.ok(p.keys.includes('workspaces.fw.targets[0]'));
});
