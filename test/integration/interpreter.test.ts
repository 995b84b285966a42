/**
 * The spec interpreter against a real Temporal dev server (the CLI we build), with real
 * activities writing to a journal file: overlap and counts come from what actually ran.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { approveUpdate, progressQuery } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { maxOverlap, newJournal, readJournal, waitFor } from '../helpers/journal';
import { useOrchestrator } from '../helpers/orchestrator';
import { failureChain } from '../helpers/failures';

const orch = useOrchestrator();

const record = (id: string, journal: string, ms = 0) => ({
  id,
  kind: 'activity' as const,
  activity: 'test.record',
  args: { journal, label: id, ms },
  heartbeatTimeout: '5s',
});

describe('parallel', () => {
  test('branches really overlap', async () => {
    const journal = newJournal();
    const spec: Spec = {
      name: 'par',
      steps: [
        {
          id: 'p',
          kind: 'parallel',
          branches: [[record('a', journal, 800)], [record('b', journal, 800)], [record('c', journal, 800)]],
        },
      ],
    };
    const result = await (await orch.start(spec)).result();
    assert.equal(maxOverlap(readJournal(journal)), 3);
    assert.deepEqual(result.output, {
      p: { branches: ['a', 'b', 'c'].map((label) => ({ status: 'completed', output: { label } })) },
    });
  });

  test('failFast: a failing branch cancels its siblings and fails the step', async () => {
    const journal = newJournal();
    const spec: Spec = {
      name: 'failfast',
      steps: [
        {
          id: 'p',
          kind: 'parallel',
          branches: [
            [
              {
                id: 'slow',
                kind: 'activity',
                activity: 'test.waitForCancel',
                args: { journal, label: 'slow' },
                heartbeatTimeout: '2s',
              },
            ],
            [
              { id: 'wait', kind: 'sleep', duration: '300ms' },
              { id: 'boom', kind: 'activity', activity: 'test.fail', args: { message: 'kaput' } },
            ],
          ],
        },
      ],
    };
    const handle = await orch.start(spec);
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /StepFailed: step "boom" failed: kaput/);
      return true;
    });
    const cancelled = await waitFor('the slow branch to see its cancellation', () =>
      readJournal(journal).find((e) => e.event === 'cancelled' && e.label === 'slow'),
    );
    assert.ok(cancelled);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.steps.slow?.status, 'cancelled');
    assert.equal(progress.steps.boom?.status, 'failed');
    assert.equal(progress.phase, 'failed');
  });

  test('collectAll: every branch runs; the output lists each outcome', async () => {
    const journal = newJournal();
    const spec: Spec = {
      name: 'collect',
      steps: [
        {
          id: 'p',
          kind: 'parallel',
          mode: 'collectAll',
          branches: [
            [{ id: 'bad', kind: 'activity', activity: 'test.fail', args: { message: 'nope' } }],
            [record('good', journal, 300)],
          ],
        },
      ],
    };
    const result = await (await orch.start(spec)).result();
    assert.deepEqual(result.output, {
      p: {
        branches: [
          { status: 'failed', error: 'step "bad" failed: nope' },
          { status: 'completed', output: { label: 'good' } },
        ],
      },
    });
  });
});

describe('map', () => {
  test('honours maxConcurrency and keeps item order', async () => {
    const journal = newJournal();
    const spec: Spec = {
      name: 'fanout',
      inputs: { items: { type: 'array' } },
      steps: [
        {
          id: 'each',
          kind: 'map',
          items: '${inputs.items}',
          maxConcurrency: 3,
          steps: [
            {
              id: 'work',
              kind: 'activity',
              activity: 'test.record',
              args: { journal, label: 'item-${index}-${item}', ms: 300 },
              heartbeatTimeout: '5s',
            },
            {
              id: 'shape',
              kind: 'activity',
              activity: 'test.echo',
              args: { index: '${index}', from: '${steps.work.output.label}' },
            },
          ],
        },
      ],
    };
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const handle = await orch.start(spec, { items });
    const result = await handle.result();
    assert.equal(maxOverlap(readJournal(journal)), 3);
    assert.deepEqual(result.output, { each: items.map((item, index) => ({ index, from: `item-${index}-${item}` })) });
    assert.equal(result.steps['each[7].work']?.status, 'completed');
  });

  test('items that are not a list fail the step with its path', async () => {
    const spec: Spec = {
      name: 'badmap',
      inputs: { items: { type: 'string' } },
      steps: [
        { id: 'each', kind: 'map', items: '${inputs.items}', steps: [{ id: 's', kind: 'sleep', duration: '1ms' }] },
      ],
    };
    const handle = await orch.start(spec, { items: 'oops' });
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /step "each" failed: map "each": items must resolve to a list, got string/);
      return true;
    });
  });
});

describe('branch and expressions', () => {
  test('the first matching case runs; later steps read its output', async () => {
    const spec: Spec = {
      name: 'branchy',
      inputs: { size: { type: 'number' } },
      steps: [
        {
          id: 'route',
          kind: 'branch',
          cases: [
            {
              when: { gt: ['${inputs.size}', 100] },
              steps: [{ id: 'big', kind: 'activity', activity: 'test.echo', args: { path: 'big' } }],
            },
            {
              when: { gt: ['${inputs.size}', 10] },
              steps: [{ id: 'medium', kind: 'activity', activity: 'test.echo', args: { path: 'medium' } }],
            },
          ],
          otherwise: [{ id: 'small', kind: 'activity', activity: 'test.echo', args: { path: 'small' } }],
        },
      ],
      output: {
        taken: '${steps.route.output.taken}',
        medium: '${steps.medium.output.path}',
        big: '${steps.big.status}',
      },
    };
    const r1 = await (await orch.start(spec, { size: 50 })).result();
    assert.deepEqual(r1.output, { taken: 1, medium: 'medium', big: 'skipped' });
  });
});

describe('approvals', () => {
  const spec = (extra: Record<string, unknown> = {}): Spec => ({
    name: 'gate',
    inputs: { target: { type: 'string' } },
    steps: [
      { id: 'prep', kind: 'activity', activity: 'test.echo', args: { artifact: 'fw-${inputs.target}.bin' } },
      { id: 'ok', kind: 'approval', prompt: 'Flash ${steps.prep.output.artifact}?', approvers: ['leads'], ...extra },
      { id: 'done', kind: 'activity', activity: 'test.echo', args: { approvedBy: '${steps.ok.output.by}' } },
    ],
  });

  test('an approve update resumes the run; progress shows the pending approval first', async () => {
    const handle = await orch.start(spec(), { target: 's3' });
    const progress = await waitFor('the approval to be pending', async () => {
      const p = await handle.query(progressQuery);
      return p.pendingApprovals.length ? p : undefined;
    });
    assert.equal(progress.phase, 'waiting_approval');
    assert.deepEqual(progress.current, ['ok']);
    assert.equal(progress.pendingApprovals[0]?.prompt, 'Flash fw-s3.bin?');
    assert.deepEqual(progress.pendingApprovals[0]?.approvers, ['leads']);
    const desc = await handle.describe();
    assert.deepEqual(desc.searchAttributes.AgentPendingApprovals, ['ok']);

    await assert.rejects(
      handle.executeUpdate(approveUpdate, { args: [{ stepId: 'prep', decision: 'approve', by: 'ann' }] }),
      (err) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String((err.cause as Error).message), /step "prep" is not waiting for approval \(waiting: ok\)/);
        return true;
      },
    );
    const answer = await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: 'ok', decision: 'approve', by: 'ann', groups: ['leads'], comment: 'go' }],
    });
    assert.equal(answer.by, 'ann');
    const result = await handle.result();
    assert.deepEqual(result.steps.done?.output, { approvedBy: 'ann' });
    assert.equal((result.steps.ok?.output as { comment: string }).comment, 'go');
    const after = await handle.describe();
    assert.deepEqual(after.searchAttributes.AgentPendingApprovals ?? [], []);
  });

  test('a rejection fails the run with who and why', async () => {
    const handle = await orch.start(spec(), { target: 's3' });
    await waitFor('pending', async () =>
      (await handle.query(progressQuery)).pendingApprovals.length ? true : undefined,
    );
    await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: 'ok', decision: 'reject', by: 'bob', groups: ['leads'], comment: 'not today' }],
    });
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /step "ok" failed: rejected by bob: not today/);
      return true;
    });
  });

  test('the timeout applies the default decision', async () => {
    const handle = await orch.start(spec({ timeout: '1s', onTimeout: 'approve' }), { target: 'c3' });
    const result = await handle.result();
    assert.deepEqual(
      { ...(result.steps.ok?.output as object), at: undefined },
      { approved: true, decision: 'approve', by: 'timeout', timedOut: true, at: undefined },
    );
    assert.deepEqual(result.steps.done?.output, { approvedBy: 'timeout' });
  });
});

describe('cancellation', () => {
  test('cancelling a run stops its running activity', async () => {
    const journal = newJournal();
    const spec: Spec = {
      name: 'cancel-me',
      steps: [
        {
          id: 'long',
          kind: 'activity',
          activity: 'test.waitForCancel',
          args: { journal, label: 'long' },
          heartbeatTimeout: '2s',
        },
      ],
    };
    const handle = await orch.start(spec);
    await waitFor('the activity to start', () => readJournal(journal).find((e) => e.event === 'start'));
    await handle.cancel();
    await assert.rejects(
      handle.result(),
      (err) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure,
    );
    // WAIT_CANCELLATION_COMPLETED: by the time the run is cancelled, the activity has stopped.
    assert.ok(readJournal(journal).some((e) => e.event === 'cancelled' && e.label === 'long'));
    const progress = await handle.query(progressQuery);
    assert.equal(progress.phase, 'cancelled');
    assert.equal(progress.steps.long?.status, 'cancelled');
  });
});

describe('limits and long runs', () => {
  test('an output over maxOutputBytes fails the step that produced it', async () => {
    const spec: Spec = {
      name: 'big',
      steps: [{ id: 'huge', kind: 'activity', activity: 'test.bytes', args: { n: 5000 } }],
    };
    const handle = await orch.start(spec, {}, { options: { maxOutputBytes: 1000 } });
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /step "huge" failed: output is 5002 bytes, over the limit of 1000 bytes/);
      return true;
    });
  });

  test('continue-as-new carries finished steps into the next run', async () => {
    const spec: Spec = {
      name: 'chain',
      steps: [
        { id: 's1', kind: 'activity', activity: 'test.echo', args: { n: 1 } },
        { id: 's2', kind: 'activity', activity: 'test.echo', args: { n: '${steps.s1.output.n}', m: 2 } },
        { id: 's3', kind: 'activity', activity: 'test.echo', args: { prev: '${steps.s2.output}' } },
      ],
    };
    const handle = await orch.start(spec, {}, { options: { continueAsNewAfterSteps: 1 } });
    const first = (await handle.describe()).runId;
    const result = await handle.result();
    assert.deepEqual(result.output, { s1: { n: 1 }, s2: { n: 1, m: 2 }, s3: { prev: { n: 1, m: 2 } } });
    const last = await orch.env.client.workflow.getHandle(handle.workflowId).describe();
    assert.notEqual(last.runId, first);
    assert.equal((await orch.env.client.workflow.getHandle(handle.workflowId).query(progressQuery)).generation, 2);
  });

  test('a child step runs another spec as a child workflow', async () => {
    const child: Spec = {
      name: 'child-spec',
      inputs: { x: { type: 'number' } },
      steps: [{ id: 'double', kind: 'activity', activity: 'test.echo', args: { twice: '${inputs.x}${inputs.x}' } }],
      output: '${steps.double.output.twice}',
    };
    const parent: Spec = {
      name: 'parent-spec',
      steps: [{ id: 'sub', kind: 'child', spec: 'child-spec', inputs: { x: 4 } }],
      output: { fromChild: '${steps.sub.output}' },
    };
    const handle = await orch.start(parent, {}, { childSpecs: { 'child-spec': child } });
    assert.deepEqual((await handle.result()).output, { fromChild: '44' });
    const childRun = await orch.env.client.workflow.getHandle(`${handle.workflowId}.sub`).describe();
    assert.equal(childRun.status.name, 'COMPLETED');
  });

  test('an invalid spec fails the run at once with every problem', async () => {
    const handle = await orch.start({ name: 'broken', steps: [{ id: 'a', kind: 'sleep', duration: 'never' }] } as Spec);
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /InvalidSpec: spec "broken" is invalid: steps\[0\]\.duration: invalid duration/);
      return true;
    });
  });
});
