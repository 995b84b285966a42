import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Spec } from '../../workflows/contracts/spec';
import { resolveChildSpecs, validateInputs, validateSpec } from '../../workflows/spec/validate';

function issuesOf(raw: unknown): Array<{ path: string; message: string }> {
  const r = validateSpec(raw);
  assert.equal(r.ok, false, 'expected the spec to be invalid');
  return r.ok ? [] : r.issues;
}

const sleep = (id: string) => ({ id, kind: 'sleep', duration: '1s' });

describe('spec validation', () => {
  test('a spec using every kind is valid', () => {
    const spec = {
      name: 'all-kinds',
      inputs: { items: { type: 'array', default: [1, 2] }, env: { type: 'string' } },
      steps: [
        {
          id: 'fetch',
          kind: 'activity',
          activity: 'http',
          args: { url: 'http://x/${inputs.env}' },
          retry: { maxAttempts: 2 },
        },
        {
          id: 'checks',
          kind: 'parallel',
          mode: 'collectAll',
          branches: [
            [sleep('a')],
            [sleep('b'), { id: 'c', kind: 'activity', activity: 'echo', args: '${steps.b.output}' }],
          ],
        },
        {
          id: 'each',
          kind: 'map',
          items: '${inputs.items}',
          maxConcurrency: 2,
          steps: [
            {
              id: 'one',
              kind: 'activity',
              activity: 'echo',
              args: { i: '${index}', v: '${item}', prev: '${steps.c.output}' },
            },
            { id: 'two', kind: 'activity', activity: 'echo', args: '${steps.one.output}' },
          ],
        },
        {
          id: 'pick',
          kind: 'branch',
          cases: [{ when: { gt: ['${steps.each.output[0]}', 0] }, steps: [sleep('yes')] }],
          otherwise: [sleep('no')],
        },
        {
          id: 'ok',
          kind: 'approval',
          prompt: 'Ship ${inputs.env}? ${steps.pick.output.taken}',
          timeout: '1h',
          onTimeout: 'approve',
        },
        { id: 'sub', kind: 'child', spec: 'other', inputs: { x: '${steps.a.output}' } },
      ],
      output: { last: '${steps.sub.output}', yes: '${steps.yes.status}' },
    };
    const r = validateSpec(spec);
    assert.deepEqual(r.ok ? [] : r.issues, []);
  });

  test('schema errors give the path of the bad field', () => {
    const issues = issuesOf({
      name: 'x',
      steps: [sleep('a'), { id: 'p', kind: 'parallel', branches: [[{ id: 'q', kind: 'sleep', duration: 'soon' }]] }],
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['steps[1].branches[0][0].duration'],
    );
    assert.match(issues[0]!.message, /invalid duration/);
  });

  test('a local activity step cannot heartbeat nor take longer than 30s', () => {
    const local = { id: 'a', kind: 'activity', activity: 'http', local: true };
    const issues = issuesOf({
      name: 'x',
      steps: [{ ...local, heartbeatTimeout: '5s', startToCloseTimeout: '2m' }],
    });
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [
        ['steps[0].heartbeatTimeout', 'a local step cannot heartbeat'],
        [
          'steps[0].startToCloseTimeout',
          'a local step takes at most 30s; run longer work as an activity task (local: false)',
        ],
      ],
    );
    assert.equal(validateSpec({ name: 'x', steps: [{ ...local, startToCloseTimeout: '30s' }] }).ok, true);
  });

  test('unknown fields, unknown kinds and bad names are rejected', () => {
    assert.deepEqual(
      issuesOf({ name: 'x', steps: [{ ...sleep('a'), colour: 'red' }] }).map((i) => i.path),
      ['steps[0].colour'],
    );
    assert.deepEqual(
      issuesOf({ name: 'x', steps: [{ id: 'a', kind: 'teleport' }] }).map((i) => i.path),
      ['steps[0].kind'],
    );
    assert.deepEqual(
      issuesOf({ name: 'Bad Name', steps: [sleep('a')] }).map((i) => i.path),
      ['name'],
    );
    assert.deepEqual(
      issuesOf({ name: 'x', steps: [] }).map((i) => i.path),
      ['steps'],
    );
  });

  test('duplicate ids are reported at the second one', () => {
    const issues = issuesOf({
      name: 'x',
      steps: [sleep('a'), { id: 'p', kind: 'parallel', branches: [[sleep('a')]] }],
    });
    assert.deepEqual(issues, [
      { path: 'steps[1].branches[0][0].id', message: 'duplicate step id "a" (first at steps[0])' },
    ]);
  });

  test('references to unknown steps, inputs and names', () => {
    const issues = issuesOf({
      name: 'x',
      inputs: { env: { type: 'string' } },
      steps: [
        {
          id: 'a',
          kind: 'activity',
          activity: 'echo',
          args: ['${steps.nope.output}', '${inputs.nah}', '${item}', '${steps.a2.result}'],
        },
        sleep('a2'),
      ],
    });
    const msgs = issues.map((i) => `${i.path} ${i.message}`);
    assert.ok(
      msgs.some((m) => /steps\[0\] .*unknown step "nope"/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /unknown input "nah" \(declared: env\)/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /unknown name "item"/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /use steps.<id>.output or steps.<id>.status/.test(m)),
      msgs.join('\n'),
    );
  });

  test('forward references and references across parallel branches', () => {
    const forward = issuesOf({
      name: 'x',
      steps: [{ id: 'a', kind: 'activity', activity: 'echo', args: '${steps.b.output}' }, sleep('b')],
    });
    assert.match(forward[0]!.message, /has not finished at this point/);
    const sibling = issuesOf({
      name: 'x',
      steps: [
        {
          id: 'p',
          kind: 'parallel',
          branches: [[sleep('a')], [{ id: 'b', kind: 'activity', activity: 'echo', args: '${steps.a.output}' }]],
        },
      ],
    });
    assert.equal(sibling[0]!.path, 'steps[0].branches[1][0]');
  });

  test('map-local steps are not visible after the map', () => {
    const issues = issuesOf({
      name: 'x',
      steps: [
        { id: 'm', kind: 'map', items: [1], steps: [sleep('inner')] },
        { id: 'after', kind: 'activity', activity: 'echo', args: '${steps.inner.output}' },
      ],
    });
    assert.match(issues[0]!.message, /has not finished/);
  });

  test('cycles are named', () => {
    const issues = issuesOf({
      name: 'x',
      steps: [
        { id: 'a', kind: 'activity', activity: 'echo', args: '${steps.b.output}' },
        { id: 'b', kind: 'activity', activity: 'echo', args: '${steps.a.output}' },
      ],
    });
    assert.match(issues[0]!.message, /cycle: a → b → a/);
    assert.match(
      issuesOf({ name: 'x', steps: [{ id: 'a', kind: 'activity', activity: 'echo', args: '${steps.a.output}' }] })[0]!
        .message,
      /cycle: a → a/,
    );
  });

  test('a default of the wrong type is an error', () => {
    const issues = issuesOf({ name: 'x', inputs: { n: { type: 'number', default: 'three' } }, steps: [sleep('a')] });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['inputs.n.default'],
    );
  });
});

describe('inputs', () => {
  const spec: Spec = {
    name: 's',
    inputs: { env: { type: 'string' }, n: { type: 'number', default: 2 }, tags: { type: 'array', required: false } },
    steps: [{ id: 'a', kind: 'sleep', duration: '1s' }],
  };

  test('defaults fill in; optional inputs may be absent', () => {
    assert.deepEqual(validateInputs(spec, { env: 'prod' }), { ok: true, inputs: { env: 'prod', n: 2 } });
  });

  test('missing, unknown and mistyped inputs name the field', () => {
    const r = validateInputs(spec, { n: 'x', extra: 1 });
    assert.equal(r.ok, false);
    const paths = r.ok ? [] : r.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, ['inputs.env', 'inputs.extra', 'inputs.n']);
  });
});

describe('child specs', () => {
  const child = (name: string, childName?: string): Spec => ({
    name,
    steps: childName ? [{ id: 'c', kind: 'child', spec: childName }] : [{ id: 'a', kind: 'sleep', duration: '1s' }],
  });

  test('are resolved transitively', async () => {
    const store: Record<string, Spec> = { b: child('b', 'c'), c: child('c') };
    const r = await resolveChildSpecs(child('a', 'b'), async (n) => store[n]);
    assert.deepEqual(r.ok ? Object.keys(r.childSpecs).sort() : r.issues, ['b', 'c']);
  });

  test('a cycle or a missing spec is an error', async () => {
    const store: Record<string, Spec> = { b: child('b', 'a'), a: child('a', 'b') };
    const cyc = await resolveChildSpecs(child('a', 'b'), async (n) => store[n]);
    assert.match(cyc.ok ? '' : cyc.issues[0]!.message, /cycle: a → b → a/);
    const missing = await resolveChildSpecs(child('a', 'zz'), async () => undefined);
    assert.match(missing.ok ? '' : missing.issues[0]!.message, /"zz", which is not registered/);
  });
});

describe('field paths', () => {
  test('a malformed expression is an issue at its step, not an exception', () => {
    const issues = issuesOf({
      name: 'x',
      steps: [sleep('a'), { id: 'b', kind: 'activity', activity: 'echo', args: '${1x}' }],
      output: '${steps.a.output[x]}',
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['steps[1]', 'output'],
    );
    assert.match(issues[0]!.message, /invalid expression "\$\{1x\}"/);
  });

  test('each unknown field is named at its own path', () => {
    const issues = issuesOf({ name: 'x', steps: [{ ...sleep('a'), durtion: '1s', colour: 1 }] });
    assert.deepEqual(issues, [
      { path: 'steps[0].durtion', message: 'unknown field' },
      { path: 'steps[0].colour', message: 'unknown field' },
    ]);
  });
});
