/**
 * The run-event mapper (api/events/history-events.ts) over the recorded histories of
 * test/histories: every spec run's chain yields a well-formed stream (ids strictly increasing,
 * one run.started, each started step closed once, run.finished last and only at the real end),
 * the same events however the history is cut into reads, and the events a user expects from the
 * approval, continue-as-new, child fan-out and failure recordings.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { compareRunEventIds, parseRunEventId } from '../../api/events/event-ids';
import { historyToRunEvents, RunEventMapper } from '../../api/events/history-events';
import { parseHistoryJson, type History } from '../../temporal/replay/history';
import { RUN_SPEC_WORKFLOW } from '../../workflows/contracts/run';
import type { RunEvent } from '../../workflows/contracts/run-events';

const DIR = path.resolve(__dirname, '../histories');
const IDS = JSON.parse(readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;

interface Chain {
  name: string;
  workflowId: string;
  histories: History[];
}

/** Every recorded spec run as its continue-as-new chain (`x.json`, `x.run-2.json`, …). */
function recordedChains(): Chain[] {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');
  const chains: Chain[] = [];
  for (const file of files.filter((f) => !/\.run-\d+\.json$/.test(f)).sort()) {
    const history = load(file);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (started?.workflowType?.name !== RUN_SPEC_WORKFLOW) continue;
    const name = file.replace(/\.json$/, '');
    const histories = [history];
    for (let n = 2; files.includes(`${name}.run-${n}.json`); n++) histories.push(load(`${name}.run-${n}.json`));
    chains.push({ name, workflowId: IDS[file] ?? name, histories });
  }
  return chains;
}

function load(file: string): History {
  return parseHistoryJson(readFileSync(path.join(DIR, file), 'utf8'));
}

let corpus: Chain[] | undefined;
function chainNamed(name: string): Chain {
  const chain = (corpus ??= recordedChains()).find((c) => c.name === name);
  assert.ok(chain, `no recorded history ${name}`);
  return chain;
}

const eventsOf = (c: Chain) => historyToRunEvents(c.workflowId, c.histories);
const brief = (events: RunEvent[]) => events.map((e) => `${e.type}${e.step === undefined ? '' : ` ${e.step}`}`);

/** The chain fed as a live stream reads it: flush() at every point a read may end (between batches). */
function readInPieces(c: Chain): RunEvent[] {
  const mapper = new RunEventMapper({ workflowId: c.workflowId });
  const out: RunEvent[] = [];
  c.histories.forEach((history, index) => {
    mapper.beginExecution(index);
    const events = history.events ?? [];
    events.forEach((event, i) => {
      out.push(...mapper.push(event));
      // A read ends where the next event starts a transaction of its own: a workflow task
      // starting or completing, an activity or timer reporting, a signal, an update, the end.
      const next = events[i + 1];
      if (!next || startsTransaction(next)) out.push(...mapper.flush());
    });
    out.push(...mapper.flush());
  });
  return out;
}

function startsTransaction(event: NonNullable<History['events']>[number]): boolean {
  return !!(
    event.workflowTaskScheduledEventAttributes ||
    event.workflowTaskCompletedEventAttributes ||
    event.activityTaskStartedEventAttributes ||
    event.activityTaskCompletedEventAttributes ||
    event.activityTaskFailedEventAttributes ||
    event.timerFiredEventAttributes ||
    event.childWorkflowExecutionStartedEventAttributes ||
    event.childWorkflowExecutionCompletedEventAttributes ||
    event.workflowExecutionSignaledEventAttributes
  );
}

describe('every recorded spec run maps to a well-formed event stream', () => {
  const chains = recordedChains();

  test('the corpus holds the kinds of runs the mapper must read', () => {
    const names = chains.map((c) => c.name);
    for (const expected of [
      'example-approval-release',
      'continue-as-new-blobs',
      'map-in-children',
      'parallel-fail-fast',
    ])
      assert.ok(names.includes(expected), expected);
    assert.ok(chains.length >= 20, `only ${chains.length} spec runs recorded`);
  });

  for (const chain of chains) {
    test(chain.name, () => {
      const events = eventsOf(chain);
      const ids = events.map((e) => parseRunEventId(e.id));
      ids.forEach((id, i) => {
        assert.ok(id, `${events[i]?.id} is not an event id`);
        if (i > 0) assert.ok(compareRunEventIds(ids[i - 1]!, id) < 0, `${events[i - 1]?.id} then ${events[i]?.id}`);
      });
      const fragment = !!chain.name.match(/\.(each|research)/);
      if (!fragment) {
        assert.equal(events[0]?.type, 'run.started');
        assert.equal(events.filter((e) => e.type === 'run.started').length, 1);
      }
      const last = chain.histories.at(-1)?.events?.at(-1);
      const closed = !!(
        last?.workflowExecutionCompletedEventAttributes ||
        last?.workflowExecutionFailedEventAttributes ||
        last?.workflowExecutionCanceledEventAttributes
      );
      assert.equal(events.filter((e) => e.type === 'run.finished').length, closed ? 1 : 0);
      if (closed) assert.equal(events.at(-1)?.type, 'run.finished');
      assert.ok(events.every((e) => e.workflowId === chain.workflowId));

      // Each step: started at most once, before its close; closed once (a correction may follow at the end).
      const started = new Set<string>();
      const closedSteps = new Map<string, number>();
      for (const e of events) {
        if (!e.step || !e.type.startsWith('step.')) continue;
        if (e.type === 'step.started') {
          assert.ok(!started.has(e.step), `${e.step} started twice`);
          assert.ok(!closedSteps.has(e.step), `${e.step} started after it closed`);
          started.add(e.step);
        } else if (e.type !== 'step.progress' && !(e.data as { corrected?: boolean }).corrected) {
          closedSteps.set(e.step, (closedSteps.get(e.step) ?? 0) + 1);
        }
      }
      for (const [step, n] of closedSteps) assert.equal(n, 1, `${step} closed ${n} times`);
      if (closed) for (const step of started) assert.ok(closedSteps.has(step), `${step} never closed`);

      // However the history is cut into reads, the stream is the same.
      assert.deepEqual(readInPieces(chain), events);
    });
  }
});

describe('what the events say', () => {
  test('an approval between parallel sleeps (older history: the search attribute and the update)', () => {
    const events = eventsOf(chainNamed('example-approval-release'));
    assert.deepEqual(brief(events), [
      'run.started',
      'step.started build',
      'step.started smoke',
      'step.finished build',
      'step.finished smoke',
      'step.started approve',
      'approval.requested approve',
      'approval.decided approve',
      'step.finished approve',
      'step.started release',
      'step.finished release',
      // The parallel step itself shows only in the result's records.
      'step.finished checks',
      'run.finished',
    ]);
    const started = events[0]!;
    assert.deepEqual(started.data.spec, { name: 'approval-release', version: 1 });
    assert.deepEqual(started.data.inputs, { target: 'staging' });
    const decided = events.find((e) => e.type === 'approval.decided')!;
    assert.equal(decided.data.decision, 'approve');
    assert.equal(decided.data.by, 'recorder');
    assert.equal(decided.data.timedOut, false);
    assert.equal(decided.data.channel, 'api', 'decisions from before channels came through the API');
    assert.deepEqual(events.at(-1)?.data.status, 'completed');
  });

  test('the run memo (History contract): requested with its details, escalated, decided by the timeout', () => {
    const events = eventsOf(chainNamed('approval-escalation'));
    assert.deepEqual(brief(events), [
      'run.started',
      'step.started gate',
      'approval.requested gate',
      'approval.escalated gate',
      'approval.decided gate',
      'step.finished gate',
      'step.started after',
      'step.finished after',
      'run.finished',
    ]);
    const [requested, escalated, decided] = [events[2]!, events[3]!, events[4]!];
    assert.deepEqual(requested.data.approvers, ['release-managers']);
    assert.equal(requested.data.onTimeout, 'approve');
    assert.ok(typeof requested.data.timeoutAt === 'string');
    assert.deepEqual(escalated.data.approvers, ['release-managers', 'group:oncall']);
    assert.deepEqual(escalated.data.escalatedTo, ['group:oncall']);
    assert.ok(typeof escalated.data.escalatedAt === 'string');
    assert.deepEqual(
      { by: decided.data.by, decision: decided.data.decision, timedOut: decided.data.timedOut },
      { by: 'timeout', decision: 'approve', timedOut: true },
    );
    assert.equal(decided.data.channel, undefined, 'a timeout came through no channel');
  });

  test('the run memo: a refused signal, then a decision by signal', () => {
    const events = eventsOf(chainNamed('approval-signal'));
    const approvals = events.filter((e) => e.type.startsWith('approval.'));
    assert.deepEqual(brief(approvals), ['approval.requested gate', 'approval.refused gate', 'approval.decided gate']);
    assert.equal(approvals[1]!.data.channel, 'signal');
    assert.match(String(approvals[1]!.data.reason), /token/);
    assert.equal(approvals[2]!.data.channel, 'signal');
    assert.equal(approvals[2]!.data.by, 'recorder');
    assert.deepEqual(approvals[2]!.data.groups, ['release-managers']);
    // The token check ran as an activity of the step: it belongs to `gate`, it is no step of its own.
    assert.deepEqual([...new Set(events.filter((e) => e.step).map((e) => e.step))], ['gate', 'after']);
  });

  test('a timed-out approval decides by its default', () => {
    const events = eventsOf(chainNamed('approval-timeout-and-child'));
    const decided = events.find((e) => e.type === 'approval.decided')!;
    assert.equal(decided.step, 'gate');
    assert.equal(decided.data.timedOut, true);
    assert.equal(decided.data.by, 'timeout');
    assert.equal(decided.data.channel, undefined);
    assert.equal(decided.data.decision, 'approve');
    // The child step runs a child workflow: started with its id, finished when it completed.
    const sub = events.filter((e) => e.step === 'sub').map((e) => e.type);
    assert.deepEqual(sub, ['step.started', 'step.finished']);
    assert.equal(events.find((e) => e.step === 'sub')?.data.childWorkflowId, 'approval-timeout-and-child.sub');
  });

  test("an agent's tool call waiting for approval keeps its step open until decided", () => {
    const events = brief(eventsOf(chainNamed('agent-tools-approval')));
    const requested = events.findIndex((e) => e.startsWith('approval.requested helper.'));
    const decided = events.findIndex((e) => e.startsWith('approval.decided helper.'));
    const finished = events.indexOf('step.finished helper');
    assert.ok(requested > 0 && requested < decided && decided < finished, events.join(', '));
  });

  test('a budget approval belongs to the run: the step before it finishes, the step after it waits', () => {
    const events = brief(eventsOf(chainNamed('budget-approval')));
    assert.deepEqual(events, [
      'run.started',
      'step.started one',
      'step.finished one',
      'step.started two',
      'step.finished two',
      'approval.requested ~budget',
      'approval.decided ~budget',
      'step.started three',
      'step.finished three',
      'run.finished',
    ]);
  });

  test('continue-as-new: one stream over the chain, ids numbered by execution, finished only at the end', () => {
    const chain = chainNamed('continue-as-new-blobs');
    assert.equal(chain.histories.length, 3);
    const events = eventsOf(chain);
    assert.deepEqual(brief(events), [
      'run.started',
      'step.started big',
      'step.finished big',
      'step.started middle',
      'step.finished middle',
      'step.started read',
      'step.finished read',
      'run.finished',
    ]);
    assert.deepEqual(
      events.map((e) => e.id.split('-')[0]),
      ['0', '0', '0', '1', '1', '2', '2', '2'],
    );
    // The step carried into later executions is not reported again from the final records.
    assert.equal(events.filter((e) => e.step === 'big').length, 2);
  });

  test('a map fanned out to child workflows is one step, open while its children run', () => {
    const events = eventsOf(chainNamed('map-in-children'));
    const each = events.filter((e) => e.step === 'each');
    assert.deepEqual(
      each.map((e) => e.type),
      ['step.started', 'step.finished'],
    );
    assert.equal(each[0]?.data.childWorkflowId, 'map-in-children.each[0-1]');
    assert.equal(each[0]?.data.kind, 'map');
    // Finished only after the last child (the third) completed.
    const lastChild = chainNamed('map-in-children')
      .histories[0]!.events!.filter((e) => e.childWorkflowExecutionCompletedEventAttributes)
      .at(-1)!;
    assert.ok(Number(each[1]!.id.split('-')[1]) > Number(lastChild.eventId));
  });

  test('inline map items: the container starts with its first item and closes after its last', () => {
    const events = brief(eventsOf(chainNamed('map-branch-inline')));
    assert.equal(events[1], 'step.started each');
    assert.equal(events[2], 'step.started each[0].small');
    const lastItem = events.indexOf('step.finished each[2].small');
    assert.equal(events[lastItem + 1], 'step.finished each');
  });

  test('a failing parallel branch: the step fails with its error, its sibling is cancelled, the run fails', () => {
    const events = eventsOf(chainNamed('parallel-fail-fast'));
    const boom = events.find((e) => e.type === 'step.failed' && e.step === 'boom');
    assert.equal(boom?.data.status, 'failed');
    assert.match(String(boom?.data.error), /kaput/);
    const wait = events.find((e) => e.step === 'wait' && e.type === 'step.failed');
    assert.equal(wait?.data.status, 'cancelled');
    const finished = events.at(-1)!;
    assert.equal(finished.type, 'run.finished');
    assert.equal(finished.data.status, 'failed');
    assert.equal(finished.data.failedStep, 'boom');
    assert.match(String(finished.data.error), /step "boom" failed: kaput/);
  });

  test('a step the records call skipped is reported skipped at the end', () => {
    const events = eventsOf(chainNamed('device-offline-skip'));
    const skipped = events.find((e) => e.type === 'step.skipped' && e.step === 'upload');
    assert.ok(skipped, brief(events).join(', '));
    assert.equal(skipped.data.corrected, true);
  });

  test('a device session: its steps inside, its lease child, closed in order', () => {
    const events = brief(eventsOf(chainNamed('example-firmware-release')));
    const at = (e: string) => events.indexOf(e);
    assert.ok(at('step.started flash') < at('step.started upload'));
    assert.ok(at('step.finished verify') < at('step.finished flash'));
    assert.ok(at('step.finished flash') < at('run.finished'));
  });
});
