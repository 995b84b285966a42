/**
 * What an `activity` step may name: the spec validator refuses the orchestrator's internal
 * activities at submit, and the worker registers spec activities apart from internal ones.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createActivities } from '../../activities';
import { registerActivities } from '../../workers/orchestrator-worker';
import { validateSpec } from '../../workflows/spec/validate';
import { INTERNAL_ACTIVITY_NAMES } from '../../workflows/contracts/spec-activities';

const specCalling = (activity: string) => ({ name: 's', steps: [{ id: 'a', kind: 'activity', activity }] });

describe('activity names in a spec', () => {
  test('built-in and deployment activities are accepted', () => {
    for (const name of ['http', 'test.echo', 'myCompany.notify'])
      assert.equal(validateSpec(specCalling(name)).ok, true);
  });

  for (const name of INTERNAL_ACTIVITY_NAMES) {
    test(`the internal ${name} is refused, naming the field`, () => {
      const r = validateSpec(specCalling(name));
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.issues[0]?.path, 'steps[0].activity');
      assert.match(r.issues[0]?.message ?? '', new RegExp(`"${name}" is internal to the orchestrator`));
    });
  }

  test('the registry prefix is not part of the name a spec uses', () => {
    const r = validateSpec(specCalling('spec.http'));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.issues[0]?.message ?? '', /without the "spec\." prefix, e\.g\. "http"/);
  });
});

describe('the worker registry', () => {
  const generic = createActivities({ httpAllowedHosts: [] });
  const echo = async (x: unknown) => x;
  const registered = registerActivities(generic.internal, { ...generic.spec, 'test.echo': echo, llmChat: echo });

  test('spec activities are registered as spec.<name>; internal ones never are', () => {
    assert.equal(registered['spec.http'], generic.spec.http);
    assert.equal(registered['spec.test.echo'], echo);
    const prefixed = Object.keys(registered).filter((k) => k.startsWith('spec.'));
    assert.deepEqual(prefixed.sort(), ['spec.http', 'spec.llmChat', 'spec.test.echo']);
    assert.equal(registered['spec.llmChat'], echo, "a module's own llmChat is only reachable as spec.llmChat");
    assert.equal(registered.llmChat, generic.internal.llmChat, 'and never replaces the internal one');
    assert.equal(typeof registered.default, 'function', 'a fallback answers unknown names');
  });

  test('the validator lists every internal activity the worker has', () => {
    assert.deepEqual(
      Object.keys(generic.internal).sort(),
      ['agentCallTool', 'llmChat', 'llmChatTurn'],
      'without an MCP pool: the model call and the agent conversation',
    );
    for (const name of Object.keys(generic.internal))
      assert.ok((INTERNAL_ACTIVITY_NAMES as readonly string[]).includes(name));
  });
});
