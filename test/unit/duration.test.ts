import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationToMs, isDuration, MAX_DURATION_MS } from '../../workflows/contracts/duration';

test('durations parse every unit', () => {
  assert.equal(durationToMs('250ms'), 250);
  assert.equal(durationToMs('1.5s'), 1500);
  assert.equal(durationToMs('5m'), 300_000);
  assert.equal(durationToMs('24h'), 86_400_000);
  assert.equal(durationToMs('2d'), 172_800_000);
  assert.equal(durationToMs(42), 42);
});

test('bad durations are named in the error', () => {
  assert.equal(isDuration('5 minutes'), false);
  assert.equal(isDuration(-1), false);
  assert.throws(() => durationToMs('soon'), /invalid duration "soon"/);
});

test('durations are bounded (100 years), so no timer or timestamp built from one is invalid', () => {
  assert.equal(isDuration('36500d'), true);
  assert.equal(isDuration(MAX_DURATION_MS), true);
  assert.equal(isDuration('36501d'), false);
  assert.equal(isDuration(1e300), false);
  assert.equal(isDuration('99999999999999d'), false);
});
