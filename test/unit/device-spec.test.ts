import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateSpec } from '../../workflows/spec/validate';

const issues = (raw: unknown) => {
  const r = validateSpec(raw);
  return r.ok ? [] : r.issues;
};

test("device and build steps validate, and later steps may read a session's inner steps", () => {
  const spec = {
    name: 'fw',
    inputs: { device: { type: 'string' } },
    steps: [
      { id: 'build', kind: 'build', workspace: 'k1-firmware', target: 'esp32-s3-devkitc-1' },
      {
        id: 'flash',
        kind: 'device_session',
        device: '${inputs.device}',
        lease: '2m',
        steps: [
          {
            id: 'upload',
            kind: 'device_upload',
            artifact: '${steps.build.output.artifact}',
            onUnreachable: { timeout: '1h', onTimeout: 'abort' },
          },
          { id: 'pattern', kind: 'device_command', send: 'pattern smoke', expect: '^PATTERN (?<name>\\S+) OK' },
        ],
      },
      { id: 'done', kind: 'activity', activity: 'echo', args: '${steps.pattern.output.groups.name}' },
    ],
    output: { status: '${steps.upload.status}', fps: '${steps.pattern.output.line}' },
  };
  assert.deepEqual(issues(spec), []);
});

test('an approval inside a device session is refused: the board would be held while a human decides', () => {
  const found = issues({
    name: 'held',
    steps: [
      {
        id: 'flash',
        kind: 'device_session',
        device: 'k1',
        steps: [
          { id: 'upload', kind: 'device_upload', artifact: '/fw.bin' },
          { id: 'p', kind: 'parallel', branches: [[{ id: 'ok', kind: 'approval' }]] },
        ],
      },
    ],
  });
  assert.equal(found.length, 1);
  assert.equal(found[0]?.path, 'steps[0].steps[1].branches[0][0]');
  assert.match(found[0]?.message ?? '', /approval steps cannot run inside a device_session/);
});

test('bad device step fields name the field', () => {
  const found = issues({
    name: 'bad',
    steps: [
      { id: 'c', kind: 'device_command', device: 'k1', send: 'two\nlines', expect: '(' },
      { id: 'u', kind: 'device_upload', device: 'k1', artifact: '/fw.bin', onUnreachable: { onTimeout: 'retry' } },
      { id: 'b', kind: 'build', workspace: 'has space', command: 'rm -rf /' },
    ],
  });
  const paths = found.map((i) => i.path);
  for (const p of [
    'steps[0].send',
    'steps[0].expect',
    'steps[1].onUnreachable.onTimeout',
    'steps[2].workspace',
    'steps[2].command',
  ]) {
    assert.ok(paths.includes(p), `${p} is reported (got ${paths.join(', ')})`);
  }
});
