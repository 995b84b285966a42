/**
 * The API's read-side caches on their own: shared reads of one run (never one begun before the
 * request), closed runs' answers (fresh, then to be confirmed; bounded), inline specs checked
 * once, and the spec store's parsed versions (a file changed by hand is read again).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClosedRunCache } from '../../api/history/closed-run-views';
import { ReadCoalescer } from '../../api/history/read-coalescer';
import { SpecStore } from '../../api/specs/spec-store';
import { CheckedSpecs } from '../../api/workflows/checked-specs';
import { DEFAULT_SPEC_LIMITS } from '../../workflows/spec/schema';

/** A read the test settles by hand. */
function manualRead<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('concurrent reads of one key: those arriving during a read share the next one, never the one in flight', async () => {
  const reads = new ReadCoalescer<string>();
  const started: Array<ReturnType<typeof manualRead<string>>> = [];
  const fetch = () => {
    const read = manualRead<string>();
    started.push(read);
    return read.promise;
  };
  const first = reads.read('run', fetch);
  const later = [reads.read('run', fetch), reads.read('run', fetch), reads.read('run', fetch)];
  const other = reads.read('other', fetch);
  assert.equal(started.length, 2, 'one read per key so far');

  started[0]!.resolve('state before the decision');
  assert.equal(await first, 'state before the decision');
  await new Promise((r) => setImmediate(r));
  assert.equal(started.length, 3, 'the requests that arrived meanwhile share one new read');
  started[2]!.resolve('state after');
  assert.deepEqual(await Promise.all(later), ['state after', 'state after', 'state after']);
  started[1]!.resolve('other');
  assert.equal(await other, 'other');
  assert.equal(reads.size, 0);

  // A failed read fails its sharers, and the next request reads again.
  const failing = reads.read('run', () => Promise.reject(new Error('unavailable')));
  await assert.rejects(failing, /unavailable/);
  assert.equal(await reads.read('run', () => Promise.resolve('again')), 'again');
  const throwing = () => {
    throw new Error('thrown before any call');
  };
  await assert.rejects(reads.read('sync', throwing), /thrown before any call/);
  assert.equal(reads.size, 0);
});

test('closed runs: fresh for a while, then to be confirmed; bounded by size; forgotten on demand', () => {
  let now = 1_000;
  const cache = new ClosedRunCache<{ text: string }>(5_000, () => now);
  cache.set('a', 'run-a', { text: 'a' });
  assert.deepEqual(cache.get('a'), { view: { text: 'a' }, runId: 'run-a', checkedAt: 1_000, fresh: true });
  now += 5_000;
  assert.equal(cache.get('a')?.fresh, false, 'past the window it must be confirmed');
  cache.set('a', 'run-a', { text: 'a2' });
  assert.equal(cache.get('a')?.fresh, true);
  cache.forget('a');
  assert.equal(cache.get('a'), undefined);

  cache.set('huge', 'r', { text: 'x'.repeat(2 * 1024 * 1024) });
  assert.equal(cache.get('huge'), undefined, 'a view over 1 MB is not kept');
  for (let i = 0; i < 2_100; i++) cache.set(`run-${i}`, 'r', { text: String(i) });
  assert.equal(cache.size, 2_000);
  assert.equal(cache.get('run-0'), undefined, 'the least recently used went first');
  assert.equal(cache.get('run-2099')?.view.text, '2099');
});

test('inline specs: a passing one is checked once per JSON text; failing ones every time', () => {
  const specs = new CheckedSpecs(DEFAULT_SPEC_LIMITS);
  const spec = { name: 'once', steps: [{ id: 'nap', kind: 'sleep', duration: '1s' }] };
  const first = specs.check(JSON.parse(JSON.stringify(spec)), 'spec');
  const second = specs.check(JSON.parse(JSON.stringify(spec)), 'spec');
  assert.ok(first.ok && second.ok);
  assert.equal(second.spec, first.spec, 'the same checked spec, not a second check');
  const bad = { name: 'once', steps: [{ id: 'nap', kind: 'sleep' }] };
  for (let i = 0; i < 2; i++) {
    const checked = specs.check(bad, 'spec');
    assert.equal(checked.ok, false);
    assert.ok(!checked.ok && checked.issues.some((issue) => issue.path.startsWith('spec.steps[0]')));
  }
});

test('the spec store keeps versions it read, and reads a file again once it changed on disk', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'spec-store-cache-'));
  try {
    const store = new SpecStore(dir, { warn: () => undefined });
    const { stored } = await store.save({ name: 'kept', steps: [{ id: 'a', kind: 'sleep', duration: '1s' }] });
    const read = await store.get('kept', stored.version);
    assert.equal(await store.get('kept', stored.version), read, 'served from memory while the file is unchanged');
    assert.equal(await store.get('kept'), read);

    // Edited by hand into something that is not this spec: never served.
    const file = path.join(dir, 'kept', 'v1.json');
    await writeFile(file, JSON.stringify({ name: 'kept', version: 1, steps: [] }));
    await utimes(file, new Date(), new Date(Date.now() + 60_000));
    assert.equal(await store.get('kept', 1), undefined);
    // Repaired: read again.
    const repaired = { name: 'kept', version: 1, steps: [{ id: 'b', kind: 'sleep', duration: '2s' }] };
    await writeFile(file, JSON.stringify(repaired));
    await utimes(file, new Date(), new Date(Date.now() + 120_000));
    assert.deepEqual((await store.get('kept', 1))?.spec.steps, repaired.steps);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
