/**
 * How a nondeterminism report becomes a divergence a user can act on: Core's messages (as the SDK
 * wraps them) read against recorded histories in test/histories.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { coreMessage, explainDivergence, parseDivergence } from '../../temporal/replay/divergence';
import { HistoryFormatError, parseHistoryJson } from '../../temporal/replay/history';
import { HistoryIndex, stepPathOfSummary } from '../../temporal/replay/step-events';

const DIR = path.join(__dirname, '..', 'histories');
const ids = JSON.parse(readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const indexOf = (file: string) =>
  new HistoryIndex(parseHistoryJson(readFileSync(path.join(DIR, file), 'utf8')), ids[file]);

/** The SDK's DeterminismViolationError message around Core's. */
const wrapped = (core: string) =>
  'Replay failed with a nondeterminism error. This means that the workflow code as written is not compatible ' +
  'with the history that was fed in. Details: Workflow activation completion failed: Failure { failure: ' +
  `Some(Failure { message: "[TMPRL1100] Nondeterminism error: ${core}", source: "", stack_trace: "", ` +
  'encoded_attributes: None, cause: None, failure_info: None }), force_cause: NonDeterministicError }';

describe('divergence', () => {
  const parallel = indexOf('parallel-approval.json');

  test("Core's message is read out of the SDK's wrapper", () => {
    assert.equal(
      coreMessage(wrapped('No command scheduled for event HistoryEvent(id: 31, ActivityTaskScheduled)')),
      'No command scheduled for event HistoryEvent(id: 31, ActivityTaskScheduled)',
    );
  });

  test('another command than the history recorded: the event, both sides and the step', () => {
    const d = parseDivergence(
      wrapped('Timer machine does not handle this event: HistoryEvent(id: 5, ActivityTaskScheduled)'),
      parallel,
    );
    assert.deepEqual(
      { ...d, detail: undefined },
      {
        eventId: 5,
        eventType: 'ActivityTaskScheduled',
        recorded: 'activity "test.echo" of step "build"',
        code: 'started a timer there instead',
        stepPath: 'build',
        detail: undefined,
      },
    );
    assert.match(
      explainDivergence(d),
      /^At event 5 \(ActivityTaskScheduled\) the history recorded activity "test.echo" of step "build", but today's code started a timer there instead\. .*patched\(\)/,
    );
  });

  test('a call the code no longer makes', () => {
    const d = parseDivergence(
      wrapped('No command scheduled for event HistoryEvent(id: 31, ActivityTaskScheduled)'),
      parallel,
    );
    assert.equal(d.recorded, 'activity "test.echo" of step "ship"');
    assert.match(d.code, /issued no command there/);
    assert.equal(d.stepPath, 'ship');
  });

  test('an event that names no step is placed before the next step the history names', () => {
    const d = parseDivergence(
      wrapped('Activity machine does not handle this event: HistoryEvent(id: 22, UpsertWorkflowSearchAttributes)'),
      parallel,
    );
    assert.equal(d.recorded, 'an update of search attribute AgentPendingApprovals');
    assert.equal(d.code, 'scheduled an activity there instead');
    assert.equal(d.stepPath, 'ship');
    assert.match(explainDivergence(d), /AgentPendingApprovals \(just before step "ship"\), but today's code/);
  });

  test('another activity: found by its id; by a type several events share, no event is guessed', () => {
    const byId = parseDivergence(
      wrapped("Activity id of scheduled event '3' does not match activity id of activity command '4'"),
      parallel,
    );
    assert.equal(byId.eventId, 31);
    assert.equal(byId.stepPath, 'ship');
    const byType = parseDivergence(
      wrapped(
        "Activity type of scheduled event 'test.echo' does not match activity type of activity command 'spec.test.echo'",
      ),
      parallel,
    );
    assert.equal(byType.eventId, null);
    assert.equal(byType.recorded, 'activity "test.echo"');
    assert.equal(byType.code, 'scheduled activity "spec.test.echo" instead');
  });

  test('timers and child runs name their steps; old timers without a summary do not', () => {
    const child = indexOf('approval-timeout-child.json');
    const started = child.event(12);
    assert.ok(started);
    assert.equal(child.stepPathOf(started), 'sub');
    assert.match(child.describe(started), /^child run ".*\.sub" \(runSpec\) of step "sub"$/);
    const timer = child.event(6);
    assert.ok(timer);
    assert.equal(child.describe(timer), 'a 200 ms timer');
  });

  test('a message of unknown shape is kept whole', () => {
    const d = parseDivergence(wrapped('Something new happened'), parallel);
    assert.equal(d.eventId, null);
    assert.equal(d.detail, 'Something new happened');
    assert.match(explainDivergence(d), /^Today's code does not replay this history: Something new happened\./);
  });
});

test('summaries name step paths; history files are checked', () => {
  assert.equal(stepPathOfSummary('each[2].fetch: load output'), 'each[2].fetch');
  assert.equal(stepPathOfSummary('approve'), 'approve');
  assert.throws(() => parseHistoryJson('{ nope'), HistoryFormatError);
  assert.throws(() => parseHistoryJson('{"events": []}'), /non-empty "events" array/);
  assert.throws(() => parseHistoryJson('{"steps": {}}'), HistoryFormatError);
});
