import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findReferences, parseReference, resolveValue, walkPath } from '../../workflows/spec/expressions';

describe('expressions', () => {
  test('parses roots, fields and indexes', () => {
    assert.deepEqual(parseReference('steps.build.output.files[2].name'), {
      text: 'steps.build.output.files[2].name',
      root: 'steps',
      path: ['build', 'output', 'files', 2, 'name'],
    });
    assert.deepEqual(parseReference(' item ').path, []);
  });

  test('rejects malformed expressions with the offending text', () => {
    assert.throws(() => parseReference('steps..x'), /at "\.\.x"/);
    assert.throws(() => parseReference('1abc'), /expected a name/);
    assert.throws(() => parseReference('steps.a[x]'), /at "\[x\]"/);
  });

  test('a whole-string expression keeps its type; mixed text interpolates', () => {
    const values: Record<string, unknown> = { 'inputs.n': 3, 'inputs.o': { a: 1 }, 'inputs.s': 'hi' };
    const lookup = (r: { text: string }) => values[r.text];
    assert.equal(resolveValue('${inputs.n}', lookup), 3);
    assert.deepEqual(resolveValue('${inputs.o}', lookup), { a: 1 });
    assert.equal(resolveValue('n=${inputs.n} o=${inputs.o} s=${inputs.s}', lookup), 'n=3 o={"a":1} s=hi');
    assert.deepEqual(resolveValue({ list: ['${inputs.n}', 'x'], keep: true }, lookup), { list: [3, 'x'], keep: true });
  });

  test('finds references at any depth and skips the values it is told to', () => {
    const nested = [{ x: '${steps.inner.output}' }];
    const refs = findReferences(
      { a: '${inputs.a} and ${steps.b.status}', n: nested, k: [1, '${item}'] },
      new Set([nested]),
    );
    assert.deepEqual(
      refs.map((r) => r.text),
      ['inputs.a', 'steps.b.status', 'item'],
    );
  });

  test('walkPath names the missing segment', () => {
    assert.equal(walkPath({ a: [{ b: 2 }] }, ['a', 0, 'b'], 'x'), 2);
    assert.throws(() => walkPath({ a: {} }, ['a', 'zz'], 'steps.s.output.a.zz'), /no "zz" in \{\}/);
  });
});
