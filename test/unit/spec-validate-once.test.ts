/**
 * validateSpecOnce (the interpreter's check at admission) builds only the schemas of the step
 * kinds a spec names; its answer must be validateSpec's, issues and parsed spec alike, for every
 * spec the corpus scenarios run and for specs that are wrong in each way a kind list could change.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { STEP_KINDS } from '../../workflows/steps';
import { validateSpec, validateSpecOnce } from '../../workflows/spec/validate';
import { SCENARIOS } from '../histories/scenarios';

const same = (raw: unknown) => assert.deepEqual(validateSpecOnce(raw), validateSpec(raw));

const echo = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'activity',
  activity: 'test.echo',
  ...extra,
});

describe('validateSpecOnce', () => {
  test('answers as validateSpec for every spec the history corpus records', () => {
    let checked = 0;
    for (const s of SCENARIOS) {
      for (const spec of [s.spec, ...Object.values(s.childSpecs ?? {})]) {
        assert.equal(validateSpecOnce(spec).ok, true, `${s.name}: ${spec.name}`);
        same(spec);
        checked++;
      }
    }
    assert.ok(checked >= SCENARIOS.length);
  });

  test('answers as validateSpec for specs wrong in every way the kinds could change', () => {
    const invalid: unknown[] = [
      null,
      'spec',
      { name: 'x', steps: [] },
      { name: 'x', steps: [1, 'two'] },
      // A kind no step kind has: the union's message lists every kind.
      { name: 'x', steps: [{ id: 'a', kind: 'teleport' }] },
      { name: 'x', steps: [echo('a'), { id: 'b', kind: 'teleport' }] },
      // No kind at all, alone and beside a valid step.
      { name: 'x', steps: [{ id: 'a', activity: 'test.echo' }] },
      { name: 'x', steps: [echo('a'), { id: 'b' }] },
      // A known kind deep inside, under a kind that is wrong.
      { name: 'x', steps: [{ id: 'p', kind: 'parallel', branches: [[{ id: 'q', kind: 'nope' }]] }] },
      { name: 'x', steps: [{ id: 'p', kind: 'parallel', branches: [[echo('a', { extra: 1 })]] }] },
      // A field of the wrong kind's shape, and a kind named only in data.
      { name: 'x', steps: [{ id: 'a', kind: 'sleep', activity: 'test.echo' }] },
      { name: 'x', steps: [echo('a', { args: { kind: 'sleep' }, local: 'yes' })] },
      // What only the checks after the schema find.
      { name: 'x', steps: [echo('a'), echo('a')] },
      { name: 'x', steps: [echo('a', { args: '${steps.b.output}' }), echo('b')] },
      { name: 'Bad Name', steps: [echo('a')] },
    ];
    for (const raw of invalid) {
      assert.equal(validateSpecOnce(raw).ok, false, JSON.stringify(raw));
      same(raw);
    }
  });

  test('a spec of every kind nested in one another passes as validateSpec', () => {
    const spec = {
      name: 'nested',
      inputs: { items: { type: 'array', default: [1, 2] } },
      steps: [
        {
          id: 'm',
          kind: 'map',
          items: '${inputs.items}',
          steps: [
            {
              id: 'b',
              kind: 'branch',
              cases: [{ when: { eq: ['${item}', 1] }, steps: [echo('one')] }],
              otherwise: [
                { id: 'p', kind: 'parallel', branches: [[echo('x')], [{ id: 's', kind: 'sleep', duration: '1ms' }]] },
              ],
            },
          ],
        },
      ],
      output: '${steps.m.output}',
    };
    assert.equal(validateSpecOnce(spec).ok, true);
    same(spec);
  });

  test('builds the schemas of the kinds a spec names, and of no other', () => {
    const built: string[] = [];
    const restore: Array<() => void> = [];
    for (const kind of Object.values(STEP_KINDS) as Array<{ kind: string; schema: (step: never) => unknown }>) {
      const schema = kind.schema;
      kind.schema = (step) => {
        built.push(kind.kind);
        return schema(step);
      };
      restore.push(() => (kind.schema = schema));
    }
    try {
      const spec = { name: 'two-kinds', steps: [{ id: 'p', kind: 'parallel', branches: [[echo('a')], [echo('b')]] }] };
      assert.equal(validateSpecOnce(spec).ok, true);
      assert.deepEqual([...new Set(built)].sort(), ['activity', 'parallel']);
    } finally {
      for (const undo of restore) undo();
    }
  });
});
