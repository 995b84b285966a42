/**
 * A 5,000-item `map` on a real Temporal dev server runs its items in child workflows of
 * `maxInlineMapItems` (100) each; the history of the parent and of every child is fetched and
 * measured against issue 9's bound (10,000 events, 10 MB), and the figures are printed. On its
 * own in this file: it is the slowest of the bounded-history tests.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Spec } from '../../workflows/contracts/spec';
import { activityCount, assertBounded, measureExecutions } from '../helpers/history-size';
import { useOrchestrator } from '../helpers/orchestrator';

const orch = useOrchestrator();

test('a 5,000-item map finishes with every history (parent and children) bounded', async () => {
  const items = Array.from({ length: 5000 }, (_, i) => i);
  const spec: Spec = {
    name: 'map-5000',
    inputs: { items: { type: 'array' }, tag: { type: 'string', default: 't' } },
    steps: [
      { id: 'base', kind: 'activity', activity: 'test.echo', args: { tag: '${inputs.tag}' } },
      {
        id: 'each',
        kind: 'map',
        items: '${inputs.items}',
        maxConcurrency: 200,
        steps: [
          {
            id: 'one',
            kind: 'activity',
            activity: 'test.echo',
            args: { n: '${item}', tag: '${steps.base.output.tag}' },
          },
        ],
      },
    ],
    output: { count: '${steps.each.output.length}', last: '${steps.each.output[4999]}' },
  };
  const handle = await orch.start(spec, { items });
  const result = await handle.result();
  assert.deepEqual(result.output, { count: 5000, last: { n: 4999, tag: 't' } });

  const sizes = await measureExecutions(orch.env.client, handle.workflowId, (await handle.describe()).runId);
  assert.equal(sizes.length, 1 + 50, 'the parent and 50 children of 100 items');
  assert.ok(sizes.some((s) => s.workflowId === `${handle.workflowId}.each[4900-4999]`));
  assert.equal(activityCount(sizes, 'spec.test.echo'), 5001);
  assertBounded('a 5,000-item map (maxInlineMapItems 100):', sizes, (s) =>
    s.workflowId === handle.workflowId ? 'parent' : 'children',
  );
});
