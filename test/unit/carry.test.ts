import assert from 'node:assert/strict';
import { test } from 'node:test';
import { carryRecords, MAX_CARRIED_INLINE_BYTES, needsAfter, needsOf } from '../../workflows/carry';
import type { BlobRef } from '../../workflows/contracts/blobs';
import type { Spec } from '../../workflows/contracts/spec';
import type { StepRecord } from '../../workflows/contracts/run';

const done = (id: string, output: unknown, extra: Partial<StepRecord> = {}): StepRecord => ({
  id,
  kind: 'activity',
  status: 'completed',
  startedAt: '2026-01-01T00:00:00.000Z',
  output,
  ...extra,
});

/** A store that hands out a reference per output and remembers what it stored. */
function fakeStore() {
  const stored: string[] = [];
  return {
    stored,
    store: async (path: string, output: unknown): Promise<BlobRef> => {
      stored.push(path);
      return { sha256: path.padEnd(64, '0'), bytes: JSON.stringify(output).length };
    },
  };
}

test('needs: outputs, statuses, inputs and locals that expressions read, nested lists included', () => {
  const needs = needsOf([
    {
      id: 'm',
      kind: 'map',
      items: '${steps.list.output}',
      steps: [
        {
          id: 'x',
          kind: 'activity',
          activity: 'a',
          args: { v: '${item}', s: '${steps.gate.status}', e: '${inputs.env}' },
        },
      ],
    },
  ]);
  assert.deepEqual([...needs.outputs], ['list']);
  assert.deepEqual([...needs.statuses], ['gate']);
  assert.deepEqual([...needs.inputs], ['env']);
  assert.deepEqual([...needs.locals], ['item']);
});

test('after step i, only the remaining steps and the output count; no output mapping reads every top-level step', () => {
  const steps = [
    { id: 'a', kind: 'sleep', duration: '1s' },
    { id: 'b', kind: 'activity', activity: 'x', args: { from: '${steps.a.output}' } },
    { id: 'c', kind: 'activity', activity: 'x', args: {} },
  ] as Spec['steps'];
  assert.deepEqual([...needsAfter({ name: 's', steps, output: { c: '${steps.c.output}' } }, 2).outputs], ['c']);
  assert.deepEqual([...needsAfter({ name: 's', steps, output: '${steps.c.output}' }, 1).outputs].sort(), ['a', 'c']);
  assert.deepEqual([...needsAfter({ name: 's', steps }, 3).outputs], ['a', 'b', 'c']);
});

test('carried records keep status and only the outputs still read; big ones become references', async () => {
  const big = 'x'.repeat(100);
  const records: Array<[string, StepRecord]> = [
    ['small', done('small', { n: 1 }, { progress: { turns: 3 } })],
    ['big', done('big', big)],
    ['unread', done('unread', big)],
    ['failed', { id: 'failed', kind: 'activity', status: 'failed', startedAt: 't', error: 'boom' }],
  ];
  const { stored, store } = fakeStore();
  const carried = await carryRecords(records, new Set(['small', 'big', 'failed']), 50, store);
  assert.deepEqual(carried.small, { ...done('small', { n: 1 }) }, 'inline, without live progress');
  assert.equal(carried.big?.output, undefined);
  assert.deepEqual(carried.big?.outputRef, { sha256: 'big'.padEnd(64, '0'), bytes: 102 });
  assert.deepEqual(carried.unread, {
    id: 'unread',
    kind: 'activity',
    status: 'completed',
    startedAt: '2026-01-01T00:00:00.000Z',
  });
  assert.deepEqual(carried.failed, records[3]?.[1]);
  assert.deepEqual(stored, ['big']);
  assert.deepEqual(records[1]?.[1].outputRef, carried.big?.outputRef, 'the live record keeps its reference');

  // Stored once: a record that has its reference is carried with it, not stored again.
  const again = await carryRecords(records, new Set(['big']), 50, store);
  assert.deepEqual(again.big?.outputRef, carried.big?.outputRef);
  assert.deepEqual(stored, ['big']);
});

test('when the outputs under the threshold add up past the inline budget, the largest go to the store', async () => {
  const piece = (kib: number) => 'y'.repeat(kib * 1024);
  const records: Array<[string, StepRecord]> = [
    ['a', done('a', piece(300))],
    ['b', done('b', piece(500))],
    ['c', done('c', piece(400))],
    ['d', done('d', piece(10))],
  ];
  const { stored, store } = fakeStore();
  const carried = await carryRecords(records, new Set(['a', 'b', 'c', 'd']), 600 * 1024, store);
  assert.deepEqual(stored, ['b']);
  const inline = Object.values(carried).filter((r) => r.output !== undefined);
  assert.deepEqual(
    inline.map((r) => r.id),
    ['a', 'c', 'd'],
  );
  assert.ok(inline.reduce((sum, r) => sum + JSON.stringify(r.output).length, 0) <= MAX_CARRIED_INLINE_BYTES);
});
