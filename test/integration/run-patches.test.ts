/**
 * What a new run records for the interpreter's patches: one marker (RUN_PATCH) and its
 * TemporalChangeVersion upsert, where it used to record one pair per patch it asked for. Older
 * histories, with a marker per patch, replay from the corpus (test/replay.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { Spec } from '../../workflows/contracts/spec';
import { RUN_PATCH } from '../../workflows/interpreter';
import { useOrchestrator } from '../helpers/orchestrator';
import { failureChain } from '../helpers/failures';

const orch = useOrchestrator();

const echo = (id: string, args: unknown = {}) => ({ id, kind: 'activity' as const, activity: 'test.echo', args });

/** The patch ids of a run's markers, in history order, and how many search-attribute upserts it made. */
async function patchesOf(handle: WorkflowHandle): Promise<{ patches: string[]; upserts: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const patches = events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
  return { patches, upserts: events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length };
}

describe('patch markers of a new run', () => {
  test('a run of activity, parallel and map steps records one marker', async () => {
    const spec: Spec = {
      name: 'one-marker',
      steps: [
        echo('first', { n: 1 }),
        { id: 'fan', kind: 'parallel', branches: [[echo('a')], [echo('b1'), echo('b2', '${steps.b1.output}')]] },
        { id: 'each', kind: 'map', items: [1, 2], steps: [echo('item', { i: '${item}' })] },
      ],
    };
    const handle = await orch.start(spec);
    const result = await handle.result();
    assert.deepEqual(result.output, {
      first: { n: 1 },
      fan: {
        branches: [
          { status: 'completed', output: {} },
          { status: 'completed', output: {} },
        ],
      },
      each: [{ i: 1 }, { i: 2 }],
    });
    assert.deepEqual(await patchesOf(handle), { patches: [RUN_PATCH], upserts: 1 });
  });

  test('a fan-out child records it once too, and its items fail as before', async () => {
    const spec: Spec = {
      name: 'one-marker-children',
      steps: [
        {
          id: 'each',
          kind: 'map',
          items: [1, 2, 3],
          steps: [{ id: 'boom', kind: 'activity', activity: 'test.fail', args: { message: 'kaput ${item}' } }],
        },
      ],
    };
    const handle = await orch.start(spec, {}, { options: { maxInlineMapItems: 2 } });
    const failed = await handle.result().then(
      () => assert.fail('the run completed'),
      (err: unknown) => failureChain(err),
    );
    assert.match(failed, /^StepFailed: step "each\[\d\]\.boom" failed: kaput \d <- /);
    const child = orch.env.client.workflow.getHandle(`${handle.workflowId}.each[0-1]`);
    assert.deepEqual((await patchesOf(child)).patches, [RUN_PATCH]);
  });
});
