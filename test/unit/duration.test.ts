import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationToMs, isDuration } from '../../workflows/spec/duration';

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
