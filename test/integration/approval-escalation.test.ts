/**
 * Escalation and the inbox state, against a real dev server: `timeout` → `escalate` (more
 * approvers, a new timer, an approval.escalated webhook event) → `onTimeout`; while approvals
 * wait, the memo and the search attributes the inbox reads say who may decide and since when,
 * and they are cleared once nothing waits (read back with describe and from history).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WEBHOOK_EVENT_TYPES } from '../../workflows/contracts/run-events';
import {
  approveUpdate,
  APPROVAL_SINCE_ATTRIBUTE,
  APPROVERS_ATTRIBUTE,
  LAST_DECISION_MEMO,
  PENDING_APPROVALS_ATTRIBUTE,
  PENDING_APPROVALS_MEMO,
  progressQuery,
  type ApprovalResult,
  type PendingApproval,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { validateSpec } from '../../workflows/spec/validate';
import {
  historyEvents,
  memoUpserts,
  startApprovalWorker,
  updateRefusal,
  type ApprovalWorker,
  type RunHandle,
} from '../helpers/approvals';
import { testAuth } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let worker: ApprovalWorker;

before(async () => {
  env = await createTestEnv();
  worker = await startApprovalWorker(env, testAuth().env);
});

after(async () => {
  await worker?.stop();
  await env?.teardown();
});

type Output = ApprovalResult & { approved: boolean; timedOut: boolean };

const escalating = (name: string, first: string, second: string): Spec => ({
  name,
  steps: [
    {
      id: 'approve',
      kind: 'approval',
      approvers: ['release-managers'],
      timeout: first,
      escalate: { approvers: ['group:oncall'], timeout: second },
      onTimeout: 'approve',
    },
  ],
});

describe('escalation', () => {
  test('escalate without the step timeout is refused at validation, naming the field', () => {
    const checked = validateSpec({
      name: 'no-timeout',
      steps: [{ id: 'approve', kind: 'approval', escalate: { approvers: ['oncall'], timeout: '1h' } }],
    });
    assert.equal(checked.ok, false);
    if (checked.ok) return;
    assert.equal(checked.issues[0]?.path, 'steps[0].escalate');
    assert.match(checked.issues[0]?.message ?? '', /escalate needs the step's timeout/);
  });

  test('after the timeout the escalation approvers may decide; others still may not', async () => {
    const handle = await worker.start(escalating('escalated', '300ms', '1h'));
    const escalated = await waitFor('the approval to escalate', async () => {
      const p = (await handle.query(progressQuery)).pendingApprovals[0];
      return p?.escalatedAt ? p : undefined;
    });
    assert.deepEqual(escalated.approvers, ['release-managers', 'group:oncall']);
    assert.ok(escalated.timeoutAt && escalated.timeoutAt > escalated.escalatedAt!, 'a new timeout runs');
    const attrs = (await handle.describe()).typedSearchAttributes;
    assert.deepEqual(attrs.get(APPROVERS_ATTRIBUTE), ['release-managers', 'group:oncall']);

    const outsider = await handle
      .executeUpdate(approveUpdate, { args: [{ stepId: 'approve', decision: 'approve', by: 'mallory', groups: [] }] })
      .then(() => assert.fail('mallory decided'), updateRefusal);
    assert.equal(outsider.type, 'NotAnApprover');
    await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: 'approve', decision: 'reject', by: 'olga', groups: ['oncall'], comment: 'not at night' }],
    });
    await assert.rejects(handle.result());
    const rejected = await handle.query(progressQuery);
    assert.match(rejected.steps.approve?.error ?? '', /rejected by olga: not at night/);
  });

  test('timeout → escalation → the default decision, with an approval.escalated webhook event', async () => {
    const webhooks = [{ id: 'hook-1', url: 'http://127.0.0.1:9/hook', events: [...WEBHOOK_EVENT_TYPES] }];
    const handle = await worker.start(escalating('escalation-default', '200ms', '300ms'), { webhooks });
    const result = await handle.result();
    const output = result.steps.approve?.output as Output;
    assert.equal(output.approved, true);
    assert.equal(output.by, 'timeout');
    assert.equal(output.timedOut, true);

    const events = await historyEvents(handle);
    const timers = events.filter((e) => e.timerStartedEventAttributes).map((e) => e.userMetadata?.summary);
    assert.equal(timers.length, 2, 'the approval timeout, then the escalation timeout');
    const lists = (await memoUpserts(handle)).map((m) => m[PENDING_APPROVALS_MEMO] as PendingApproval[]);
    assert.deepEqual(
      lists.map((l) => l.map((p) => (p.escalatedAt ? 'escalated' : 'requested'))),
      [['requested'], ['escalated'], []],
    );
    const decided = (await memoUpserts(handle)).map((m) => m[LAST_DECISION_MEMO]).filter(Boolean);
    assert.deepEqual(
      decided.map((d) => ({ ...(d as object), at: undefined })),
      [{ stepId: 'approve', decision: 'approve', by: 'timeout', timedOut: true, at: undefined }],
    );

    // Each event goes out as a delivery the run starts (workflows/webhooks/notify.ts), in order.
    const sent = events
      .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.input?.payloads?.[0])
      .filter((p) => p !== undefined && p !== null)
      .map((p) => (defaultPayloadConverter.fromPayload(p) as { event: { type: string; step?: string } }).event);
    assert.deepEqual(
      sent.map((e) => e.type),
      ['run.started', 'approval.requested', 'approval.escalated', 'approval.decided', 'run.finished'],
    );
    assert.ok(sent.slice(1, 4).every((e) => e.step === 'approve'));
  });

  test('run.finished says failed (with the error) or cancelled', async () => {
    const webhooks = [{ id: 'hook-2', url: 'http://127.0.0.1:9/hook', events: [...WEBHOOK_EVENT_TYPES] }];
    const gate: Spec = { name: 'finished', steps: [{ id: 'approve', kind: 'approval' }] };
    const rejected = await worker.start(gate, { webhooks });
    const cancelled = await worker.start(gate, { webhooks });
    for (const h of [rejected, cancelled])
      await waitFor('pending', async () => (await h.query(progressQuery)).pendingApprovals.length > 0);
    await rejected.executeUpdate(approveUpdate, {
      args: [{ stepId: 'approve', decision: 'reject', by: 'ana', comment: 'no' }],
    });
    await cancelled.cancel();
    for (const h of [rejected, cancelled]) await assert.rejects(h.result());

    const finished = async (h: RunHandle) =>
      (await historyEvents(h))
        .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.input?.payloads?.[0])
        .filter((p) => p !== undefined && p !== null)
        .map((p) => (defaultPayloadConverter.fromPayload(p) as { event: { type: string; data: unknown } }).event)
        .find((e) => e.type === 'run.finished')?.data;
    assert.deepEqual(await finished(rejected), {
      status: 'failed',
      error: 'step "approve" failed: rejected by ana: no',
    });
    assert.equal(((await finished(cancelled)) as { status?: string } | undefined)?.status, 'cancelled');
  });

  test('runs without webhooks start no deliveries', async () => {
    const handle = await worker.start(escalating('escalation-quiet', '100ms', '100ms'));
    await handle.result();
    const children = (await historyEvents(handle)).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    assert.equal(children.length, 0);
  });
});

describe('inbox state', () => {
  test('memo and search attributes name who may decide and since when while waiting, and are cleared after', async () => {
    const spec: Spec = {
      name: 'inbox',
      steps: [
        {
          id: 'both',
          kind: 'parallel',
          branches: [
            [{ id: 'release', kind: 'approval', prompt: 'Ship?', approvers: ['release-managers', 'user:bob'] }],
            [{ id: 'anyone', kind: 'approval' }],
          ],
        },
      ],
    };
    const handle: RunHandle = await worker.start(spec);
    const waiting = await waitFor('both approvals to wait', async () => {
      const d = await handle.describe();
      const memo = (d.memo?.[PENDING_APPROVALS_MEMO] ?? []) as PendingApproval[];
      return memo.length === 2 ? d : undefined;
    });
    const memo = waiting.memo?.[PENDING_APPROVALS_MEMO] as PendingApproval[];
    assert.deepEqual(memo.map((p) => [p.stepId, p.prompt, p.approvers]).sort(), [
      ['anyone', undefined, undefined],
      ['release', 'Ship?', ['release-managers', 'user:bob']],
    ]);
    const attrs = waiting.typedSearchAttributes;
    assert.deepEqual(attrs.get(PENDING_APPROVALS_ATTRIBUTE)?.slice().sort(), ['anyone', 'release']);
    assert.deepEqual(attrs.get(APPROVERS_ATTRIBUTE)?.slice().sort(), ['*', 'release-managers', 'user:bob']);
    const oldest = memo.map((p) => p.requestedAt).sort()[0];
    assert.equal(attrs.get(APPROVAL_SINCE_ATTRIBUTE)?.toISOString(), oldest);

    await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: 'release', decision: 'approve', by: 'ana', groups: ['release-managers'] }],
    });
    const one = await handle.describe();
    assert.deepEqual(
      (one.memo?.[PENDING_APPROVALS_MEMO] as PendingApproval[]).map((p) => p.stepId),
      ['anyone'],
    );
    assert.deepEqual(one.typedSearchAttributes.get(APPROVERS_ATTRIBUTE), ['*']);
    assert.equal((one.memo?.[LAST_DECISION_MEMO] as ApprovalResult).by, 'ana');

    await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'anyone', decision: 'approve', by: 'zed' }] });
    await handle.result();
    const done = await handle.describe();
    // The server drops an empty list from the merged memo; history keeps the upsert of [].
    assert.deepEqual(done.memo?.[PENDING_APPROVALS_MEMO] ?? [], []);
    assert.deepEqual((await memoUpserts(handle)).at(-1)?.[PENDING_APPROVALS_MEMO], []);
    assert.deepEqual(done.memo?.[LAST_DECISION_MEMO], {
      ...(done.memo?.[LAST_DECISION_MEMO] as object),
      stepId: 'anyone',
      by: 'zed',
      channel: 'api',
      timedOut: false,
    });
    assert.deepEqual(done.typedSearchAttributes.get(PENDING_APPROVALS_ATTRIBUTE) ?? [], []);
    assert.equal(done.typedSearchAttributes.get(APPROVERS_ATTRIBUTE), undefined);
    assert.equal(done.typedSearchAttributes.get(APPROVAL_SINCE_ATTRIBUTE), undefined);
  });
});
