import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateSpec } from '../../workflows/spec/validate';

const specWith = (step: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: 'tools',
  steps: [{ id: 'first', kind: 'tool', tool: 'fs.read_text_file', args: { path: 'a' } }, step],
  ...extra,
});

test('a tool step names server.tool and may build its args from expressions', () => {
  const checked = validateSpec(
    specWith(
      {
        id: 'second',
        kind: 'tool',
        tool: 'files.write_file',
        args: { path: '${inputs.out}', content: '${steps.first.output.text}' },
        startToCloseTimeout: '2m',
        heartbeatTimeout: '5s',
        retry: { maxAttempts: 2 },
      },
      { inputs: { out: { type: 'string' } } },
    ),
  );
  assert.ok(checked.ok, JSON.stringify(!checked.ok && checked.issues));
});

test('tool addresses: a server, a dot, a tool name; no expressions', () => {
  for (const tool of ['read_file', '.read', 'fs.', 'my server.read', 'fs.${inputs.x}', 'a.b c']) {
    const checked = validateSpec(specWith({ id: 'bad', kind: 'tool', tool }));
    assert.ok(!checked.ok, tool);
    assert.deepEqual(
      checked.issues.map((i) => i.path),
      ['steps[1].tool'],
      tool,
    );
    assert.match(checked.issues[0]!.message, /server\.tool/);
  }
  for (const tool of ['fs.read_file', 'git-hub.list.issues', 'k1.run_pattern', 'everything.get-tiny-image']) {
    assert.ok(validateSpec(specWith({ id: 'good', kind: 'tool', tool })).ok, tool);
  }
});

test('tool step fields are checked like any other step', () => {
  const issues = (step: Record<string, unknown>) => {
    const checked = validateSpec(specWith(step));
    return checked.ok ? [] : checked.issues;
  };
  assert.deepEqual(issues({ id: 'second', kind: 'tool', tool: 'fs.x', timeout: '1s' }), [
    { path: 'steps[1].timeout', message: 'unknown field' },
  ]);
  assert.deepEqual(issues({ id: 'second', kind: 'tool', tool: 'fs.x', args: { p: '${steps.later.output}' } }), [
    { path: 'steps[1]', message: '${steps.later.output}: unknown step "later"' },
  ]);
  assert.equal(issues({ id: 'second', kind: 'tool', tool: 'fs.x', args: 'x' })[0]?.path, 'steps[1].args');
  assert.equal(
    issues({ id: 'second', kind: 'tool', tool: 'fs.x', heartbeatTimeout: 'soon' })[0]?.path,
    'steps[1].heartbeatTimeout',
  );
});
