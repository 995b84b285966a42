/** The device activities outside Temporal (MockActivityEnvironment): what they refuse, and why. */
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeviceActivities } from '../../activities/device/activities';
import { resolveDevice, devicesFileSchema } from '../../activities/device/config';
import { Fence } from '../../activities/device/fence';
import type { DeviceLockView } from '../../workflows/contracts/device';

const roots = mkdtempSync(path.join(tmpdir(), 'roots-'));
const outside = mkdtempSync(path.join(tmpdir(), 'outside-'));
writeFileSync(path.join(roots, 'fw.bin'), Buffer.alloc(4096, 1));
writeFileSync(path.join(outside, 'secret.bin'), Buffer.alloc(16, 2));
symlinkSync(path.join(outside, 'secret.bin'), path.join(roots, 'link.bin'));

const device = resolveDevice(
  devicesFileSchema.parse({
    devices: [
      { id: 'k1', serialPath: path.join(roots, 'no-such-tty'), uploader: { type: 'esp-serial', reset: 'none' } },
    ],
  }).devices[0]!,
);
const holding = (token: number): DeviceLockView => ({
  deviceId: 'k1',
  holder: {
    requestId: 'r',
    workflowId: 'wf',
    stepPath: 's',
    token,
    grantedAt: '',
    leaseMs: 30_000,
    leaseExpiresAt: Date.now() + 60_000,
  },
  waiting: [],
  stats: { uploads: 0, succeeded: 0, failed: 0, skipped: 0, uploadMsTotal: 0, grants: 0, leasesExpired: 0 },
  nextToken: token + 1,
});
const acts = createDeviceActivities({ device, artifactRoots: [roots], fence: new Fence(async () => holding(3)) });
const origin = { workflowId: 'wf', stepPath: 'upload' };
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const run = <T>(fn: () => Promise<T>) =>
  new MockActivityEnvironment({ heartbeatTimeoutMs: 1000 }, { logger: quiet }).run(fn);
const failure = (type: string, nonRetryable: boolean, pattern?: RegExp) => (e: unknown) =>
  e instanceof ApplicationFailure &&
  e.type === type &&
  e.nonRetryable === nonRetryable &&
  (!pattern || pattern.test(e.message));

test('an unknown token is refused before the board is touched', async () => {
  await assert.rejects(
    run(() => acts.deviceUpload({ deviceId: 'k1', token: 2, artifact: path.join(roots, 'fw.bin'), origin })),
    failure('FencingTokenRejected', true),
  );
});

test('artifacts must be inside the artifact roots, symlinks included', async () => {
  await assert.rejects(
    run(() => acts.deviceUpload({ deviceId: 'k1', token: 3, artifact: path.join(outside, 'secret.bin'), origin })),
    failure('ArtifactInvalid', true, /outside the artifact roots/),
  );
  await assert.rejects(
    run(() => acts.deviceUpload({ deviceId: 'k1', token: 3, artifact: path.join(roots, 'link.bin'), origin })),
    failure('ArtifactInvalid', true, /outside/),
  );
  await assert.rejects(
    run(() => acts.deviceUpload({ deviceId: 'k1', token: 3, artifact: 'relative.bin', origin })),
    failure('ArtifactInvalid', true, /absolute/),
  );
  await assert.rejects(
    run(() => acts.deviceUpload({ deviceId: 'k1', token: 3, artifact: path.join(roots, 'missing.bin'), origin })),
    failure('ArtifactInvalid', true, /does not exist/),
  );
});

test('a missing serial port means the device is offline (retryable), and other devices are refused', async () => {
  await assert.rejects(
    run(() => acts.deviceUpload({ deviceId: 'k1', token: 3, artifact: path.join(roots, 'fw.bin'), origin })),
    failure('DeviceUnreachable', false, /cannot open serial port/),
  );
  await assert.rejects(
    run(() => acts.deviceUpload({ deviceId: 'k2', token: 3, artifact: path.join(roots, 'fw.bin'), origin })),
    failure('WrongDevice', true),
  );
  await assert.rejects(
    run(() => acts.deviceCommand({ deviceId: 'k1', token: 3, send: 'a\nb', expect: '.', origin })),
    failure('InvalidCommand', true),
  );
});
