/**
 * One error policy, against a real Temporal dev server: whatever a spec's data gets wrong at run
 * time (an expression over a missing field, a condition over the wrong types, the run's `output`
 * mapping) fails the step or the run with a typed, non-retryable failure naming where and what —
 * never a workflow task, which Temporal would retry forever while the run shows `running`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import { approveUpdate, progressQuery } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { validateSpec } from '../../workflows/spec/validate';
import { failureChain } from '../helpers/failures';
import { waitFor } from '../helpers/journal';
import { useOrchestrator, type Orchestrator } from '../helpers/orchestrator';
import { settle, workflowTaskFailures } from '../helpers/run-history';

const orch = useOrchestrator();

type Handle = Awaited<ReturnType<Orchestrator['start']>>;

/** Runs `spec` to its end; asserts it closed as FAILED without a single failed workflow task. */
async function runToFailure(spec: Spec, inputs: Record<string, unknown> = {}): Promise<ApplicationFailure> {
  const handle = await orch.start(spec, inputs);
  const status = await settle(handle);
  assert.deepEqual(await workflowTaskFailures(handle), []);
  assert.equal(status, 'FAILED');
  const err = await handle.result().then(
    () => assert.fail('the run completed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
  assert.equal(err.cause.nonRetryable, true);
  return err.cause;
}

/** The typed failure under a StepFailed, which names the step. */
function underStep(failure: ApplicationFailure, stepPath: string): ApplicationFailure {
  assert.equal(failure.type, 'StepFailed');
  assert.match(failure.message, new RegExp(`^step "${stepPath.replace(/[[\]]/g, '\\$&')}" failed: `));
  assert.ok(failure.cause instanceof ApplicationFailure, failureChain(failure));
  assert.equal(failure.cause.nonRetryable, true);
  return failure.cause;
}

describe("the README's first run (examples/approval-release.spec.yaml)", () => {
  const example = parseYaml(
    readFileSync(path.resolve(__dirname, '../../examples/approval-release.spec.yaml'), 'utf8'),
  ) as Spec;

  const approve = async (handle: Handle, body: { by: string; comment?: string }) => {
    await waitFor(
      'the approval to be pending',
      async () => (await handle.query(progressQuery)).pendingApprovals.some((a) => a.stepId === 'approve') || undefined,
    );
    // The example's approvers are [release-managers].
    await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: 'approve', decision: 'approve', groups: ['release-managers'], ...body }],
    });
    return handle.result();
  };

  test('is valid', () => {
    assert.deepEqual(validateSpec(example), { ok: true, spec: example });
  });

  test('completes when approved without a comment', async () => {
    const handle = await orch.start(example, { target: 'staging' });
    const result = await approve(handle, { by: 'you' });
    assert.deepEqual(
      { ...(result.output as object), releasedAfterMs: 0 },
      {
        target: 'staging',
        approvedBy: 'you',
        comment: null,
        releasedAfterMs: 0,
      },
    );
    assert.deepEqual(await workflowTaskFailures(handle), []);
  });

  test('completes when approved with a comment', async () => {
    const handle = await orch.start(example, { target: 'staging' });
    const result = await approve(handle, { by: 'you', comment: 'ship it' });
    assert.equal((result.output as { comment: unknown }).comment, 'ship it');
  });
});

describe('spec data errors fail the step or the run, typed', () => {
  test("the run's output over a missing field fails the run with ExpressionError naming output and the expression", async () => {
    const failure = await runToFailure({
      name: 'output-missing',
      steps: [{ id: 'ok', kind: 'approval', timeout: '1ms', onTimeout: 'approve' }],
      output: { by: '${steps.ok.output.by}', comment: 'said: ${steps.ok.output.comment}' },
    });
    assert.equal(failure.type, 'ExpressionError');
    assert.match(
      failure.message,
      /^expression "\$\{steps\.ok\.output\.comment\}" in output\.comment: no "comment" in \{"approved":true,/,
    );
    assert.deepEqual(failure.details, [{ field: 'output.comment', expression: '${steps.ok.output.comment}' }]);
  });

  test("an expression in a step's fields fails that step with ExpressionError", async () => {
    const failure = await runToFailure(
      {
        name: 'args-missing',
        inputs: { settings: { type: 'object' } },
        steps: [
          { id: 'first', kind: 'sleep', duration: '1ms' },
          { id: 'use', kind: 'activity', activity: 'test.echo', args: { retries: '${inputs.settings.retries}' } },
        ],
      },
      { settings: { timeout: 3 } },
    );
    const cause = underStep(failure, 'use');
    assert.equal(cause.type, 'ExpressionError');
    assert.equal(cause.message, 'expression "${inputs.settings.retries}" in step "use": no "retries" in {"timeout":3}');
    assert.deepEqual(cause.details, [{ stepId: 'use', expression: '${inputs.settings.retries}' }]);
  });

  test('an approval prompt over a failed step fails the approval step, not the workflow task', async () => {
    const failure = await runToFailure({
      name: 'prompt-missing',
      steps: [
        {
          id: 'checks',
          kind: 'parallel',
          mode: 'collectAll',
          branches: [[{ id: 'lint', kind: 'activity', activity: 'test.fail', args: { message: 'lint failed' } }]],
        },
        { id: 'ok', kind: 'approval', prompt: 'Lint said ${steps.lint.output.summary}', timeout: '1h' },
      ],
    });
    const cause = underStep(failure, 'ok');
    assert.equal(cause.type, 'ExpressionError');
    assert.match(cause.message, /expression "\$\{steps\.lint\.output\.summary\}" in step "ok": step "lint" is failed/);
  });

  test('a map item is plain data: its prototype is not readable', async () => {
    const failure = await runToFailure({
      name: 'proto',
      steps: [
        {
          id: 'each',
          kind: 'map',
          items: [{ name: 'a' }],
          steps: [{ id: 'show', kind: 'activity', activity: 'test.echo', args: { c: '${item.constructor}' } }],
        },
      ],
    });
    const cause = underStep(failure, 'each[0].show');
    assert.equal(cause.type, 'ExpressionError');
    assert.match(cause.message, /expression "\$\{item\.constructor\}" in step "each\[0\]\.show": no "constructor"/);
  });

  test('a condition over operands of the wrong type fails the branch step with ConditionError', async () => {
    const failure = await runToFailure(
      {
        name: 'bad-compare',
        inputs: { size: { type: 'string' } },
        steps: [
          {
            id: 'route',
            kind: 'branch',
            cases: [{ when: { gt: ['${inputs.size}', 10] }, steps: [{ id: 'big', kind: 'sleep', duration: '1ms' }] }],
          },
        ],
      },
      { size: 'large' },
    );
    const cause = underStep(failure, 'route');
    assert.equal(cause.type, 'ConditionError');
    assert.match(cause.message, /^condition in step "route": cannot compare "large" with 10/);
  });
});

describe('defaults: ${ref ?? literal}', () => {
  test('answer an optional input, a step a branch passed over, a failed step, a null and a missing field', async () => {
    const spec: Spec = {
      name: 'defaults',
      inputs: { note: { type: 'string', required: false }, data: { type: 'object', default: { n: null } } },
      steps: [
        {
          id: 'route',
          kind: 'branch',
          cases: [
            { when: { eq: [1, 2] }, steps: [{ id: 'never', kind: 'activity', activity: 'test.echo', args: {} }] },
          ],
        },
        {
          id: 'checks',
          kind: 'parallel',
          mode: 'collectAll',
          branches: [[{ id: 'bad', kind: 'activity', activity: 'test.fail', args: { message: 'no' } }]],
        },
        { id: 'ok', kind: 'approval', timeout: '1ms', onTimeout: 'approve' },
      ],
      output: {
        note: "${inputs.note ?? 'none'}",
        never: '${steps.never.output.x ?? false}',
        neverStatus: '${steps.never.status}',
        bad: '${steps.bad.output ?? "failed"}',
        n: '${inputs.data.n ?? 0}',
        comment: '${steps.ok.output.comment ?? null}',
        text: "by ${steps.ok.output.by}${steps.ok.output.comment ?? ''}.",
      },
    };
    const result = await (await orch.start(spec)).result();
    assert.deepEqual(result.output, {
      note: 'none',
      never: false,
      neverStatus: 'skipped',
      bad: 'failed',
      n: 0,
      comment: null,
      text: 'by timeout.',
    });
  });
});
