/**
 * Internal approvals (budgets) live in their own key space, on a real Temporal dev server with
 * the stand-in model server (test/fixtures/llm: real OpenAI wire format, local, scripted): a step
 * whose id is `budget` and the run's budget approval (`~budget`) wait side by side, each decided
 * on its own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RUN_BUDGET_APPROVAL } from '../../workflows/llm/ledger';
import { approveUpdate, progressQuery } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { startLlmWorker, type LlmWorker } from '../fixtures/llm/harness';
import { StandInModelServer } from '../fixtures/llm/model-server';
import { waitFor } from '../helpers/journal';
import { workflowTaskFailures } from '../helpers/run-history';
import { createTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let llm: LlmWorker;

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start();
  llm = await startLlmWorker(env, server);
});
after(async () => {
  await llm?.stop();
  await server?.close();
  await env?.teardown();
});

describe('internal approval ids', () => {
  test('the run budget approval is ~budget, apart from a step whose id is budget', async () => {
    assert.equal(RUN_BUDGET_APPROVAL, '~budget');
    server.script = () => ({ text: 'ok', usage: { input: 60, output: 40 } });
    const ask = (id: string) => ({ id, kind: 'llm' as const, model: 'default', prompt: id });
    const spec: Spec = {
      name: 'budget-and-step',
      steps: [
        {
          id: 'both',
          kind: 'parallel',
          branches: [[{ id: 'budget', kind: 'approval', prompt: 'Ship it?', timeout: '1h' }], [ask('one'), ask('two')]],
        },
      ],
    };
    const handle = await llm.start(spec, {}, { budget: { tokens: 60 } });

    const waiting = await waitFor('the step and the run budget to wait side by side', async () => {
      const p = await handle.query(progressQuery);
      return p.pendingApprovals.length === 2 ? p.pendingApprovals : undefined;
    });
    assert.deepEqual(waiting.map((a) => a.stepId).sort(), ['budget', '~budget']);
    assert.equal(waiting.find((a) => a.stepId === 'budget')?.prompt, 'Ship it?');
    assert.match(waiting.find((a) => a.stepId === '~budget')?.prompt ?? '', /^Run budget reached/);
    assert.deepEqual(((await handle.describe()).searchAttributes.AgentPendingApprovals as string[]).sort(), [
      'budget',
      '~budget',
    ]);

    await handle.executeUpdate(approveUpdate, { args: [{ stepId: '~budget', decision: 'approve', by: 'finance' }] });
    await waitFor('the second model call', () => server.exchanges.length === 2 || undefined);
    const progress = await handle.query(progressQuery);
    assert.deepEqual(
      progress.pendingApprovals.map((a) => a.stepId),
      ['budget'],
    );
    await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'budget', decision: 'approve', by: 'lead' }] });
    const result = await handle.result();
    assert.equal((result.steps.budget?.output as { by: string }).by, 'lead');
    assert.equal(result.steps.two?.output, 'ok');
    assert.deepEqual(await workflowTaskFailures(handle), []);
  });
});
