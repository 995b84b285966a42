/**
 * A run's progress folded from its history (api/history/history-progress.ts): run events into
 * step records, container steps inferred from the steps inside them, and whole recorded
 * histories of test/histories read as GET /workflows/:id reads a run without asking its worker.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  addContainerSteps,
  foldRunEvents,
  progressFromHistory,
  type ProgressView,
} from '../../api/history/history-progress';
import { decodePayload as decode, parseHistoryJson, type History } from '../../temporal/replay/history';
import { RUN_SPEC_WORKFLOW, type RunInput, type RunResult, type StepRecord } from '../../workflows/contracts/run';
import type { RunEvent, RunEventType } from '../../workflows/contracts/run-events';
import type { Step } from '../../workflows/contracts/spec';

const DIR = path.resolve(__dirname, '../histories');

const load = (file: string): History => parseHistoryJson(readFileSync(path.join(DIR, file), 'utf8'));

let n = 0;
function ev(type: RunEventType, step?: string, data: Record<string, unknown> = {}): RunEvent {
  n++;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  return { id: `0-${n}-0`, type, workflowId: 'w', at, ...(step !== undefined && { step }), data };
}

const statuses = (steps: Record<string, StepRecord>) =>
  Object.fromEntries(
    Object.entries(steps)
      .map(([p, r]) => [p, r.status] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );

type Steps = Record<string, StepRecord>;

function record(id: string, status: StepRecord['status'], extra: Partial<StepRecord> = {}): StepRecord {
  return { id, kind: 'activity', status, startedAt: '2026-01-01T00:00:00.000Z', ...extra };
}

describe('foldRunEvents', () => {
  test('steps start, finish, fail (the error as the step records it) and are skipped', () => {
    const folded = foldRunEvents([
      ev('step.started', 'fetch', { kind: 'activity' }),
      ev('step.finished', 'fetch', { status: 'completed' }),
      ev('step.started', 'boom', { kind: 'tool' }),
      ev('step.failed', 'boom', { status: 'failed', error: 'step "boom" failed: kaput' }),
      ev('step.started', 'other'),
      ev('step.failed', 'other', { status: 'cancelled', error: 'cancelled' }),
      ev('step.skipped', 'flash', { kind: 'device_upload', reason: 'offline' }),
    ]);
    assert.deepEqual(statuses(folded.steps), {
      boom: 'failed',
      fetch: 'completed',
      flash: 'skipped',
      other: 'cancelled',
    });
    assert.equal(folded.steps.boom?.error, 'kaput');
    assert.equal(folded.steps.boom?.kind, 'tool');
    assert.equal(folded.steps.boom?.id, 'boom');
    assert.ok(folded.steps.fetch?.finishedAt && folded.steps.fetch.finishedAt > folded.steps.fetch.startedAt);
    assert.equal(folded.steps.other?.kind, 'unknown', 'a step the spec does not name');
    assert.equal(folded.finished, undefined);
  });

  test("a step waiting on its approval (or a sub-decision or budget of it) is waiting; the run's budget holds no step", () => {
    const folded = foldRunEvents([
      ev('step.started', 'gate', { kind: 'approval' }),
      ev('approval.requested', 'gate', { prompt: 'ok?', onTimeout: 'reject', requestedAt: 'x' }),
      ev('step.started', 'agent', { kind: 'agent' }),
      ev('approval.requested', 'agent.call-1', { onTimeout: 'reject', requestedAt: 'x' }),
      ev('step.started', 'each[1].review', { kind: 'llm' }),
      ev('approval.requested', 'each[1].review~budget', { onTimeout: 'reject', requestedAt: 'x' }),
      ev('step.started', 'plain', { kind: 'llm' }),
      ev('approval.requested', '~budget', { onTimeout: 'reject', requestedAt: 'x' }),
      ev('approval.escalated', 'gate', { prompt: 'ok?', approvers: ['a', 'b'], escalatedTo: ['b'] }),
    ]);
    assert.equal(folded.steps.gate?.status, 'waiting');
    assert.equal(folded.steps.agent?.status, 'waiting');
    assert.equal(folded.steps['each[1].review']?.status, 'waiting');
    assert.equal(folded.steps.plain?.status, 'running');
    assert.deepEqual(
      folded.pendingApprovals.map((p) => p.stepId),
      ['gate', 'agent.call-1', 'each[1].review~budget', '~budget'],
    );
    assert.deepEqual(folded.pendingApprovals[0], {
      stepId: 'gate',
      prompt: 'ok?',
      approvers: ['a', 'b'],
    });

    const decided = foldRunEvents([
      ev('step.started', 'gate', { kind: 'approval' }),
      ev('approval.requested', 'gate', { requestedAt: 'x' }),
      ev('approval.decided', 'gate', { decision: 'approve', by: 'ana' }),
    ]);
    assert.deepEqual(decided.pendingApprovals, []);
    assert.equal(decided.steps.gate?.status, 'running', 'decided, its workflow task not yet run');
  });

  test('refused decisions: the newest 20, newest last', () => {
    const events = [ev('step.started', 'gate')];
    for (let i = 0; i < 25; i++) events.push(ev('approval.refused', 'gate', { reason: `r${i}`, channel: 'signal' }));
    const { refusedDecisions } = foldRunEvents(events);
    assert.equal(refusedDecisions.length, 20);
    assert.deepEqual(refusedDecisions.at(-1), { stepId: 'gate', reason: 'r24', channel: 'signal' });
    assert.equal(refusedDecisions[0]?.reason, 'r5');
  });

  test('records carried across continue-as-new stay; one started again starts afresh', () => {
    const carried = {
      a: record('a', 'completed', { output: { label: 'a' } }),
      b: record('b', 'failed', { error: 'old' }),
    };
    const folded = foldRunEvents([ev('step.started', 'b', { kind: 'activity' }), ev('step.started', 'c')], carried);
    assert.deepEqual(statuses(folded.steps), { a: 'completed', b: 'running', c: 'running' });
    assert.deepEqual(folded.steps.a?.output, { label: 'a' }, 'a carried output is shown');
    assert.equal(folded.steps.b?.error, undefined);
  });

  test("the run's end: how it ended, and nothing pending", () => {
    const folded = foldRunEvents([
      ev('step.started', 'gate'),
      ev('approval.requested', 'gate', {}),
      ev('step.failed', 'gate', { status: 'cancelled', error: 'the run was cancelled' }),
      ev('run.finished', undefined, { status: 'cancelled', error: 'the run was cancelled' }),
    ]);
    assert.deepEqual(folded.finished, { status: 'cancelled', error: 'the run was cancelled', failedStep: undefined });
    assert.deepEqual(folded.pendingApprovals, []);
    assert.equal(folded.steps.gate?.status, 'cancelled');
  });
});

describe('addContainerSteps', () => {
  const sleep = (id: string): Step => ({ id, kind: 'sleep', duration: '1s' });
  const parallel = (id: string, branches: Step[][], mode?: 'collectAll'): Step =>
    ({ id, kind: 'parallel', branches, ...(mode && { mode }) }) as Step;
  const spec = [parallel('checks', [[sleep('build')], [sleep('smoke')]]), sleep('release')];

  test('a container runs while a step inside it runs, and until a step after it starts', () => {
    const running: Steps = { build: record('build', 'completed'), smoke: record('smoke', 'running') };
    addContainerSteps(spec, running, false);
    assert.equal(running.checks?.status, 'running');
    assert.equal(running.checks?.kind, 'parallel');

    const between: Steps = { build: record('build', 'completed'), smoke: record('smoke', 'completed') };
    addContainerSteps(spec, between, false);
    assert.equal(between.checks?.status, 'running', 'nothing after it started yet');

    const after: Steps = {
      build: record('build', 'completed', { finishedAt: '2026-01-01T00:00:02.000Z' }),
      smoke: record('smoke', 'completed', { finishedAt: '2026-01-01T00:00:03.000Z' }),
      release: record('release', 'running'),
    };
    addContainerSteps(spec, after, false);
    assert.equal(after.checks?.status, 'completed');
    assert.equal(after.checks?.finishedAt, '2026-01-01T00:00:03.000Z');

    const none: Record<string, StepRecord> = {};
    addContainerSteps(spec, none, false);
    assert.deepEqual(none, {}, 'nothing inside started: the container did not either');
  });

  test('a failing branch fails a failFast parallel (the run ended), not a collectAll one', () => {
    const failed = (): Steps => ({
      build: record('build', 'failed', { error: 'kaput' }),
      smoke: record('smoke', 'cancelled'),
    });
    const failFast = failed();
    addContainerSteps(spec, failFast, true);
    assert.equal(failFast.checks?.status, 'failed');
    assert.equal(failFast.checks?.error, 'step "build" failed: kaput');

    const collect: Steps = { ...failed(), smoke: record('smoke', 'completed'), release: record('release', 'running') };
    addContainerSteps(
      [parallel('checks', [[sleep('build')], [sleep('smoke')]], 'collectAll'), sleep('release')],
      collect,
      false,
    );
    assert.equal(collect.checks?.status, 'completed');
  });

  test('containers nest: a branch inside a parallel, each inferred', () => {
    const nested: Step[] = [
      parallel('outer', [
        [{ id: 'pick', kind: 'branch', cases: [{ when: { equals: [1, 1] }, steps: [sleep('a')] }] } as unknown as Step],
        [sleep('b')],
      ]),
      sleep('after'),
    ];
    const steps: Steps = { a: record('a', 'completed'), b: record('b', 'running') };
    addContainerSteps(nested, steps, false);
    assert.deepEqual(statuses(steps), { a: 'completed', b: 'running', outer: 'running', pick: 'running' });
  });
});

describe('progressFromHistory over recorded histories', () => {
  test('approval-release while it waits: checks done (inferred), approve waiting', () => {
    const history = load('example-approval-release.json');
    const requested = (history.events ?? []).findIndex(
      (e) =>
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.AgentPendingApprovals !==
        undefined,
    );
    assert.ok(requested > 0);
    const view = progressFromHistory('w', { events: history.events?.slice(0, requested + 1) }, decode);
    assert.deepEqual(view.spec, { name: 'approval-release', version: 1 });
    assert.equal(view.phase, 'waiting_approval');
    assert.deepEqual(view.current, ['approve']);
    assert.deepEqual(statuses(view.steps), {
      approve: 'waiting',
      build: 'completed',
      checks: 'completed',
      smoke: 'completed',
    });
    assert.deepEqual(
      view.pendingApprovals.map((p) => p.stepId),
      ['approve'],
    );
    assert.equal(view.generation, 0);
  });

  test('a failFast parallel that failed: the failing step and its error, its sibling cancelled', () => {
    const view = progressFromHistory('w', load('parallel-fail-fast.json'), decode);
    assert.equal(view.phase, 'failed');
    assert.deepEqual(view.current, []);
    assert.deepEqual(statuses(view.steps), { boom: 'failed', race: 'failed', wait: 'cancelled' });
    assert.equal(view.steps.boom?.error, 'kaput');
  });

  test('a continued execution shows the steps carried in, and its generation', () => {
    const view = progressFromHistory('w', load('continue-as-new-blobs.run-3.json'), decode);
    const first = progressFromHistory('w', load('continue-as-new-blobs.json'), decode);
    assert.equal(first.generation, 0);
    assert.ok(view.generation > 0);
    for (const path of Object.keys(first.steps)) assert.ok(view.steps[path], `${path} carried into the last execution`);
  });

  test('every completed recording: what the history says before the last workflow task holds at the end', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');
    let checked = 0;
    for (const file of files) {
      const history = load(file);
      const events = history.events ?? [];
      const started = events[0]?.workflowExecutionStartedEventAttributes;
      const completed = events.at(-1)?.workflowExecutionCompletedEventAttributes;
      if (started?.workflowType?.name !== RUN_SPEC_WORKFLOW || !completed) continue;
      const result = decode(completed.result?.payloads?.[0]) as RunResult;
      // A fan-out's child keeps no records of its own (its parent records the fan-out).
      if ((decode(started.input?.payloads?.[0]) as RunInput).fragment) continue;
      let lastTask = events.length - 1;
      while (lastTask > 0 && !events[lastTask]?.workflowTaskCompletedEventAttributes) lastTask--;
      const view: ProgressView = progressFromHistory(file, { events: events.slice(0, lastTask) }, decode);
      for (const [path, rec] of Object.entries(view.steps)) {
        const final = result.steps[path];
        assert.ok(final, `${file}: ${path} is a step the run recorded`);
        if (rec.status === 'running' || rec.status === 'waiting') continue;
        // A step that skips itself (a device offline) ends like one that completes: only its record tells.
        const shown = rec.status === 'completed' && final.status === 'skipped' ? 'skipped' : rec.status;
        assert.equal(shown, final.status, `${file}: ${path}`);
      }
      checked++;
    }
    assert.ok(checked >= 10, `${checked} recordings checked`);
  });
});
