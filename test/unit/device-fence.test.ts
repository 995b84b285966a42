import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { Fence } from '../../activities/device/fence';
import type { DeviceLockView } from '../../workflows/contracts/device';

const NOW = 1_000_000;
const view = (holder?: { token: number; leaseExpiresAt: number }): DeviceLockView => ({
  deviceId: 'k1',
  holder: holder && { requestId: 'r', workflowId: 'wf', stepPath: 'flash', grantedAt: '', leaseMs: 30_000, ...holder },
  waiting: [],
  stats: { uploads: 0, succeeded: 0, failed: 0, skipped: 0, uploadMsTotal: 0, grants: 0, leasesExpired: 0 },
  nextToken: 10,
});

const rejected = (type: string, pattern: RegExp) => (err: unknown) =>
  err instanceof ApplicationFailure && err.type === type && pattern.test(err.message);

test('the current holder with a live lease may act', async () => {
  const fence = new Fence(
    async () => view({ token: 5, leaseExpiresAt: NOW + 1000 }),
    () => NOW,
  );
  await fence.check(5);
});

test('a token that is not the current holder is refused, naming who holds the device', async () => {
  const fence = new Fence(
    async () => view({ token: 6, leaseExpiresAt: NOW + 1000 }),
    () => NOW,
  );
  await assert.rejects(
    fence.check(5),
    rejected('FencingTokenRejected', /token 5 does not hold device "k1" \(current holder: token 6, held by wf/),
  );
  await assert.rejects(
    new Fence(
      async () => view(),
      () => NOW,
    ).check(5),
    rejected('FencingTokenRejected', /current holder: nobody/),
  );
});

test('an expired lease is refused even if the lock has not noticed yet', async () => {
  const fence = new Fence(
    async () => view({ token: 5, leaseExpiresAt: NOW }),
    () => NOW,
  );
  await assert.rejects(fence.check(5), rejected('FencingTokenRejected', /lease of fencing token 5 .* expired/));
});

test('tokens only move forward: an older token is refused without asking the lock', async () => {
  let current = 7;
  let asked = 0;
  const fence = new Fence(
    async () => (asked++, view({ token: current, leaseExpiresAt: NOW + 1000 })),
    () => NOW,
  );
  await fence.check(7);
  current = 6; // a stale answer
  await assert.rejects(fence.check(6), rejected('FencingTokenRejected', /older than token 7/));
  assert.equal(asked, 1);
});

test('a lock that cannot be asked, after a few tries, is a retryable failure, not a refusal', async () => {
  let asked = 0;
  const fence = new Fence(
    async () => {
      asked++;
      throw new Error('connection refused');
    },
    () => NOW,
    [1, 1],
  );
  await assert.rejects(
    fence.check(1),
    (err: unknown) => err instanceof ApplicationFailure && err.type === 'DeviceLockUnavailable' && !err.nonRetryable,
  );
  assert.equal(asked, 3, 'asked once and tried twice more');
});

test('a lock that answers on a later try (its worker just restarted) lets the action through', async () => {
  let asked = 0;
  const fence = new Fence(
    async () => {
      if (++asked < 2) throw new Error('query timed out');
      return view({ token: 4, leaseExpiresAt: NOW + 1000 });
    },
    () => NOW,
    [1],
  );
  assert.equal((await fence.check(4))?.token, 4);
});
