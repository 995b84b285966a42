/**
 * Who may decide, and through which channel, against a real dev server and a real static tokens
 * file: the `approve` update's validator refuses anyone a step's approvers do not name
 * (NotAnApprover, history unchanged) and a signed link's nonce used twice (LinkUsed, also after
 * continue-as-new); the `approve` signal (from the client and from the Temporal CLI) is checked
 * by the worker's verifyDecisionToken activity and either decides the step (channel `signal`) or
 * is recorded as a refused decision that changes nothing; APPROVAL_SIGNALS=off refuses them all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SIGNALS_OFF_REASON } from '../../activities/identity/decision-token';
import {
  approveSignal,
  approveUpdate,
  LAST_REFUSAL_MEMO,
  progressQuery,
  type ApprovalInput,
  type ApprovalResult,
  type ApprovalSignalInput,
  type RefusedDecision,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import {
  cliSignal,
  historyEvents,
  startApprovalWorker,
  updateRefusal,
  type ApprovalWorker,
  type RunHandle,
} from '../helpers/approvals';
import { testAuth, type TestAuth } from '../helpers/api-auth';
import { failureChain } from '../helpers/failures';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let auth: TestAuth;
let worker: ApprovalWorker;

before(async () => {
  env = await createTestEnv();
  auth = testAuth();
  worker = await startApprovalWorker(env, auth.env);
});

after(async () => {
  await worker?.stop();
  await env?.teardown();
});

const releaseGate = (name: string, extra: Partial<Spec> = {}): Spec => ({
  name,
  steps: [
    { id: 'approve', kind: 'approval', prompt: 'Release?', approvers: ['release-managers', 'user:bob'], timeout: '1h' },
  ],
  ...extra,
});

async function pending(handle: RunHandle, stepId = 'approve') {
  return waitFor(`${stepId} to be pending`, async () =>
    (await handle.query(progressQuery)).pendingApprovals.find((a) => a.stepId === stepId),
  );
}

const decide = (handle: RunHandle, input: ApprovalInput) => handle.executeUpdate(approveUpdate, { args: [input] });

async function refusedBy(handle: RunHandle, input: ApprovalInput) {
  return decide(handle, input).then(
    () => assert.fail(`${input.by}'s decision was accepted`),
    (err: unknown) => updateRefusal(err),
  );
}

/** Waits for the run's `n`-th refused decision. */
async function nthRefusal(handle: RunHandle, n: number): Promise<RefusedDecision> {
  return waitFor(`refused decision #${n}`, async () => (await handle.query(progressQuery)).refusedDecisions?.[n - 1]);
}

type Output = ApprovalResult & { approved: boolean; timedOut: boolean };
const outputOf = async (handle: RunHandle, stepId = 'approve') =>
  (await handle.result()).steps[stepId]?.output as Output;

describe('the approve update', () => {
  test('a wrong user or a wrong group is refused as NotAnApprover with history unchanged; a group member decides', async () => {
    const handle = await worker.start(releaseGate('enforced'));
    await pending(handle);
    const before = (await historyEvents(handle)).length;

    const mallory = await refusedBy(handle, { stepId: 'approve', decision: 'approve', by: 'mallory', groups: [] });
    assert.equal(mallory.type, 'NotAnApprover');
    assert.equal(
      mallory.message,
      'mallory (no groups) may not decide step "approve": its approvers are release-managers, user:bob',
    );
    const eve = await refusedBy(handle, { stepId: 'approve', decision: 'reject', by: 'eve', groups: ['ops'] });
    assert.equal(eve.type, 'NotAnApprover');
    assert.match(eve.message, /^eve \(groups: ops\) may not decide step "approve"/);
    // A group named like the user entry does not count: `user:bob` names a user.
    const bobGroup = await refusedBy(handle, { stepId: 'approve', decision: 'approve', by: 'carl', groups: ['bob'] });
    assert.equal(bobGroup.type, 'NotAnApprover');
    assert.equal((await historyEvents(handle)).length, before, 'a refused update writes nothing');

    const answer = await decide(handle, {
      stepId: 'approve',
      decision: 'approve',
      by: 'ana',
      groups: ['release-managers'],
      channel: 'api',
      comment: 'go',
    });
    assert.equal(answer.channel, 'api');
    const output = await outputOf(handle);
    assert.equal(output.approved, true);
    assert.equal(output.by, 'ana');
    assert.deepEqual(output.groups, ['release-managers']);
    assert.equal(output.channel, 'api');
    assert.equal(output.comment, 'go');
  });

  test('a decision without a channel is recorded as api; a user named as user:<id> decides', async () => {
    const handle = await worker.start(releaseGate('by-user'));
    await pending(handle);
    await decide(handle, { stepId: 'approve', decision: 'approve', by: 'bob' });
    const output = await outputOf(handle);
    assert.equal(output.by, 'bob');
    assert.equal(output.channel, 'api');
  });

  test('a link works once, also after the run continued as new; a link decision needs its nonce', async () => {
    const spec: Spec = {
      name: 'links',
      steps: [
        { id: 'first', kind: 'approval', timeout: '1h' },
        { id: 'second', kind: 'approval', timeout: '1h' },
      ],
    };
    const handle = await worker.start(spec, { continueAsNewAfterSteps: 1 });
    await pending(handle, 'first');
    const link = { decision: 'approve' as const, by: 'ana', groups: ['release-managers'], channel: 'link' as const };
    const first = await decide(handle, { stepId: 'first', ...link, nonce: 'nonce-1' });
    assert.equal(first.channel, 'link');
    assert.equal('nonce' in first, false, 'the nonce stays out of the result');

    await pending(handle, 'second');
    assert.equal((await handle.query(progressQuery)).generation, 1, 'the run continued as new after the first step');
    const before = (await historyEvents(handle)).length;
    for (const stepId of ['first', 'second']) {
      const again = await refusedBy(handle, { stepId, ...link, nonce: 'nonce-1' });
      assert.equal(again.type, 'LinkUsed');
      assert.match(again.message, /this link was already used .*a signed link works once/);
    }
    const bare = await refusedBy(handle, { stepId: 'second', ...link });
    assert.equal(bare.type, 'InvalidDecision');
    assert.match(bare.message, /must carry the link's nonce/);
    assert.equal((await historyEvents(handle)).length, before);

    await decide(handle, { stepId: 'second', ...link, nonce: 'nonce-2' });
    const result = await handle.result();
    assert.equal((result.steps.second?.output as Output).channel, 'link');
  });
});

describe('the approve signal', () => {
  test('a valid token from an approver decides the step (client and Temporal CLI); output says signal', async () => {
    const spec: Spec = {
      name: 'signalled',
      steps: [
        { id: 'approve', kind: 'approval', approvers: ['release-managers'], timeout: '1h' },
        { id: 'release', kind: 'approval', approvers: ['group:release-managers'], timeout: '1h' },
      ],
    };
    const handle = await worker.start(spec);
    await pending(handle, 'approve');
    await handle.signal(approveSignal, {
      stepId: 'approve',
      decision: 'approve',
      token: auth.tokens.ana,
      comment: 'from the client',
    });
    await pending(handle, 'release');
    await cliSignal(env, handle.workflowId, {
      stepId: 'release',
      decision: 'approve',
      token: auth.tokens.ana,
      comment: 'from the CLI',
    });
    const result = await handle.result();
    for (const [stepId, comment] of [
      ['approve', 'from the client'],
      ['release', 'from the CLI'],
    ] as const) {
      const output = result.steps[stepId]?.output as Output;
      assert.equal(output.approved, true);
      assert.equal(output.by, 'ana');
      assert.deepEqual(output.groups, ['release-managers']);
      assert.equal(output.channel, 'signal');
      assert.equal(output.comment, comment);
    }
    assert.deepEqual((await handle.query(progressQuery)).refusedDecisions, []);
  });

  test('a bad token, a non-approver, a viewer and a step not waiting are refused and recorded; the step still waits', async () => {
    const handle = await worker.start(releaseGate('refused'));
    await pending(handle);
    const send = (token: string, stepId = 'approve') =>
      handle.signal(approveSignal, { stepId, decision: 'approve', token });

    await send('not-a-token-anyone-issued');
    const bad = await nthRefusal(handle, 1);
    assert.equal(bad.stepId, 'approve');
    assert.equal(bad.channel, 'signal');
    assert.equal(bad.by, undefined);
    assert.match(bad.reason, /^the token was refused \(unknown\)/);

    await send(auth.tokens.mallory);
    const outsider = await nthRefusal(handle, 2);
    assert.equal(outsider.by, 'mallory');
    assert.match(outsider.reason, /mallory \(no groups\) may not decide step "approve"/);

    await send(auth.tokens.viewer);
    assert.equal((await nthRefusal(handle, 3)).reason, 'viewer does not hold the approver role');

    await send(auth.tokens.ana, 'elsewhere');
    assert.match(
      (await nthRefusal(handle, 4)).reason,
      /step "elsewhere" is not waiting for approval \(waiting: approve\)/,
    );

    // Malformed payloads are refusals too, never a failed workflow task.
    const malformed = { stepId: 'approve', decision: 'maybe', token: auth.tokens.ana };
    await handle.signal(approveSignal, malformed as unknown as ApprovalSignalInput);
    assert.equal((await nthRefusal(handle, 5)).reason, 'decision must be approve or reject');

    const progress = await handle.query(progressQuery);
    assert.equal(progress.phase, 'waiting_approval');
    assert.equal(progress.pendingApprovals[0]?.stepId, 'approve');
    const memo = (await handle.describe()).memo ?? {};
    assert.deepEqual(memo[LAST_REFUSAL_MEMO], progress.refusedDecisions?.[4]);

    await decide(handle, { stepId: 'approve', decision: 'reject', by: 'ana', groups: ['release-managers'] }).catch(
      (err: unknown) => assert.fail(String(err)),
    );
    await assert.rejects(handle.result(), (err) => /step "approve" failed: rejected by ana/.test(failureChain(err)));
  });

  test('of a signal and an update racing for one step exactly one decides', async () => {
    // A second approval keeps the run open, so the losing signal is still recorded.
    const spec = releaseGate('race');
    spec.steps.push({ id: 'hold', kind: 'approval', timeout: '1h' });
    const handle = await worker.start(spec);
    await pending(handle);
    const [signal, update] = await Promise.allSettled([
      handle.signal(approveSignal, { stepId: 'approve', decision: 'approve', token: auth.tokens.ana }),
      decide(handle, { stepId: 'approve', decision: 'approve', by: 'bob' }),
    ]);
    assert.equal(signal.status, 'fulfilled');
    if (update.status === 'fulfilled') {
      assert.equal(update.value.by, 'bob');
      assert.match((await nthRefusal(handle, 1)).reason, /step "approve" was already decided: approve by bob/);
    } else {
      assert.equal(updateRefusal(update.reason).type, 'AlreadyDecided');
    }
    await pending(handle, 'hold');
    await decide(handle, { stepId: 'hold', decision: 'approve', by: 'ops' });
    const output = await outputOf(handle);
    assert.equal(output.by, update.status === 'fulfilled' ? 'bob' : 'ana');
    assert.equal(output.channel, update.status === 'fulfilled' ? 'api' : 'signal');
  });

  test('APPROVAL_SIGNALS=off refuses every signalled decision; the update still decides', async () => {
    const off = await startApprovalWorker(env, { ...auth.env, APPROVAL_SIGNALS: 'off' });
    try {
      const handle = await off.start(releaseGate('signals-off'));
      await pending(handle);
      await handle.signal(approveSignal, { stepId: 'approve', decision: 'approve', token: auth.tokens.ana });
      const refused = await nthRefusal(handle, 1);
      assert.equal(refused.reason, SIGNALS_OFF_REASON);
      assert.equal((await handle.query(progressQuery)).pendingApprovals.length, 1);
      await decide(handle, { stepId: 'approve', decision: 'approve', by: 'ana', groups: ['release-managers'] });
      assert.equal((await outputOf(handle)).channel, 'api');
    } finally {
      await off.stop();
    }
  });
});
