import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ExpressionError,
  findReferences,
  parseReference,
  resolveValue,
  walkPath,
  type Reference,
} from '../../workflows/spec/expressions';
import { validateSpec } from '../../workflows/spec/validate';
import type { Spec } from '../../workflows/contracts/spec';

/** Looks references up in `data` the way the interpreter does: a missing field is a `missing` error. */
const over = (data: Record<string, unknown>) => (ref: Reference) => walkPath(data[ref.root], ref.path, ref.text);

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

  test('walkPath reads own fields of plain data only, never prototype members', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.throws(() => walkPath({}, [name], `inputs.${name}`), ExpressionError, name);
    }
    assert.throws(() => walkPath('text', ['length'], 'inputs.s.length'), /no "length" in "text"/);
    assert.throws(() => walkPath([1, 2], [2], 'x[2]'), /no "2" in \[1,2\]/);
    assert.throws(() => walkPath([1, 2], ['map'], 'x.map'), /no "map"/);
    assert.equal(walkPath([1, 2], ['length'], 'x.length'), 2);
    // JSON may carry a field named like a prototype member; then it is data.
    assert.equal(walkPath(JSON.parse('{"constructor": 7}'), ['constructor'], 'x.constructor'), 7);
  });
});

describe('defaults: ${ref ?? literal}', () => {
  test('parses every literal form, and a quoted } or ?? stays inside the literal', () => {
    const cases: Array<[string, unknown]> = [
      ["a.b ?? ''", ''],
      ["a.b ?? 'it is ${none}'", 'it is ${none}'],
      ['a.b ?? ""', ''],
      ['a.b ?? "say \\"hi\\" }"', 'say "hi" }'],
      ['a.b??null', null],
      ['a.b ?? true', true],
      ['a.b ?? false', false],
      ['a.b ?? -1.5e2', -150],
      ['a.b ?? 0', 0],
      ["a.b ?? 'x ?? y'", 'x ?? y'],
    ];
    for (const [text, value] of cases) {
      const ref = parseReference(text);
      assert.deepEqual([ref.root, ref.path, ref.fallback], ['a', ['b'], { value }], text);
    }
    assert.equal(parseReference('a.b').fallback, undefined);
  });

  test('rejects a default that is not one literal', () => {
    for (const text of [
      'a ??',
      'a ?? b',
      'a ?? inputs.x',
      "a ?? 'x' 'y'",
      'a ?? {}',
      'a ?? [1]',
      'a ?? 01',
      'a ?? "x',
    ]) {
      assert.throws(
        () => parseReference(text),
        (err) => err instanceof ExpressionError && err.problem === 'invalid',
        text,
      );
    }
    assert.throws(() => findReferences('${a ?? "unterminated}'), /unterminated " string/);
  });

  test('the default answers a missing field and null, nothing else', () => {
    const lookup = over({ inputs: { s: 'hi', n: null, o: { deep: { x: 1 } } } });
    assert.equal(resolveValue("${inputs.gone ?? 'none'}", lookup), 'none');
    assert.equal(resolveValue("${inputs.o.deep.y.z ?? 'none'}", lookup), 'none');
    assert.equal(resolveValue('${inputs.n ?? 3}', lookup), 3);
    assert.equal(resolveValue("${inputs.s ?? 'none'}", lookup), 'hi');
    assert.equal(resolveValue("${inputs.constructor ?? 'own fields only'}", lookup), 'own fields only');
    assert.equal(resolveValue("by ${inputs.who ?? 'nobody'}: ${inputs.n ?? ''}.", lookup), 'by nobody: .');
    assert.equal(resolveValue('${inputs.o.deep ?? null}', lookup), lookup(parseReference('inputs.o.deep')));
    // Other failures (here: a lookup that is not a missing field) are not hidden by a default.
    const boom = () => {
      throw new Error('not a missing field');
    };
    assert.throws(() => resolveValue("${inputs.x ?? ''}", boom), /not a missing field/);
  });

  test('an unanswered missing reference names the expression and where it sits', () => {
    const lookup = over({ steps: { approve: { output: { by: 'ann' } } } });
    assert.throws(
      () => resolveValue({ target: 'x', list: ['ok', { comment: '${steps.approve.output.comment}' }] }, lookup),
      (err) => {
        assert.ok(err instanceof ExpressionError);
        assert.equal(err.field, 'list[1].comment');
        assert.equal(err.expression, '${steps.approve.output.comment}');
        assert.equal(
          err.at('output.list[1].comment'),
          'expression "${steps.approve.output.comment}" in output.list[1].comment: no "comment" in {"by":"ann"}',
        );
        return true;
      },
    );
  });

  test('a ${ with no closing brace stays text, as before', () => {
    assert.deepEqual(findReferences('cost: ${ and more'), []);
    assert.equal(
      resolveValue('cost: ${ and more', () => 1),
      'cost: ${ and more',
    );
  });
});

describe('validation of expressions with defaults', () => {
  const spec = (output: unknown, inputs: Spec['inputs'] = {}): Spec => ({
    name: 's',
    inputs,
    steps: [{ id: 'wait', kind: 'sleep', duration: '1ms' }],
    output,
  });

  test('references behind a default are still checked; a bad default is a field error', () => {
    const ok = validateSpec(
      spec(
        { a: '${steps.wait.output.sleptMs ?? 0}', b: "${inputs.note ?? ''}" },
        { note: { type: 'string', required: false } },
      ),
    );
    assert.equal(ok.ok, true, JSON.stringify(ok));
    const typo = validateSpec(spec({ a: '${steps.wiat.output ?? null}' }));
    assert.deepEqual(typo.ok ? [] : typo.issues, [
      { path: 'output', message: '${steps.wiat.output ?? null}: unknown step "wiat"' },
    ]);
    const bad = validateSpec(spec({ a: '${steps.wait.output ?? steps.other}' }));
    assert.equal(bad.ok, false);
    assert.equal(bad.ok ? '' : bad.issues[0]?.path, 'output');
    assert.match(bad.ok ? '' : (bad.issues[0]?.message ?? ''), /the default after \?\? must be a literal/);
  });

  test('an input named like a prototype member is unknown, not inherited', () => {
    const result = validateSpec(spec({ c: '${inputs.constructor}' }));
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : (result.issues[0]?.message ?? ''), /unknown input "constructor"/);
  });
});
