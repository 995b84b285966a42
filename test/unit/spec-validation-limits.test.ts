import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { portablePattern } from '../../api/openapi/doc-overrides';
import { DEFAULT_SPEC_LIMITS, SPEC_LIMIT_CEILINGS } from '../../workflows/spec/schema';
import { checkNesting, checkSpecLimits, validateSpec } from '../../workflows/spec/validate';

const sleep = (id: string) => ({ id, kind: 'sleep', duration: '1ms' });

/** A parallel inside a parallel ... `levels` steps deep, the innermost a sleep. */
function nestedParallels(levels: number): { name: string; steps: object[] } {
  let step: object = sleep('leaf');
  for (let i = 1; i < levels; i++) step = { id: `p${i}`, kind: 'parallel', branches: [[step]] };
  return { name: 'deep', steps: [step] };
}

describe('spec size limits', () => {
  test('step nesting: the limit itself passes, one more names the limit and the step', () => {
    assert.ok(validateSpec(nestedParallels(32), '', DEFAULT_SPEC_LIMITS).ok);
    const over = validateSpec(nestedParallels(33), 'spec', DEFAULT_SPEC_LIMITS);
    assert.equal(over.ok, false);
    assert.deepEqual(!over.ok && over.issues, [
      {
        path: `spec.steps[0]${'.branches[0][0]'.repeat(32)}`,
        message: 'steps nested more than 32 deep (limit maxStepDepth)',
      },
    ]);
  });

  test('a spec 100,000 steps deep is refused without recursion (no stack overflow)', () => {
    const issue = checkSpecLimits(nestedParallels(100_000), '', SPEC_LIMIT_CEILINGS);
    assert.match(issue?.message ?? '', /limit maxStepDepth/);
  });

  test('the step count includes nested steps; the first step past the limit is named', () => {
    const spec = {
      name: 'many',
      steps: [sleep('a'), { id: 'p', kind: 'parallel', branches: [[sleep('b'), sleep('c')]] }, sleep('d')],
    };
    const limits = { ...DEFAULT_SPEC_LIMITS, maxSteps: 3 };
    assert.deepEqual(checkSpecLimits(spec, '', limits), {
      path: 'steps[1].branches[0][1]',
      message: 'more than 3 steps (limit maxSteps)',
    });
    assert.equal(checkSpecLimits(spec, '', { ...limits, maxSteps: 5 }), undefined);
  });

  test('values nested too deep anywhere are refused with their path; inputs too', () => {
    let args: unknown = 'x';
    for (let i = 0; i < 300; i++) args = { a: args };
    const issue = checkSpecLimits({ name: 'x', steps: [{ ...sleep('s'), args }] }, '', DEFAULT_SPEC_LIMITS);
    assert.equal(issue?.message, 'arrays and objects nested more than 200 deep (limit maxNesting)');
    assert.ok(issue?.path.startsWith('steps[0].args.a.a'));
    assert.equal(checkNesting({ v: [[[1]]] }, 3, 'inputs')?.path, 'inputs.v[0][0]');
    assert.equal(checkNesting({ v: [[1]] }, 3, 'inputs'), undefined);
  });

  test('the interpreter (default limits: the ceilings) admits whatever a configured API may', () => {
    assert.ok(validateSpec(nestedParallels(SPEC_LIMIT_CEILINGS.maxStepDepth)).ok);
  });

  test('spec versions are bounded', () => {
    const at = (version: number) => validateSpec({ name: 'v', version, steps: [sleep('a')] });
    assert.ok(at(1_000_000).ok);
    const over = at(2 ** 53 - 1);
    assert.deepEqual(!over.ok && over.issues.map((i) => i.path), ['version']);
  });
});

describe('patterns in the OpenAPI document', () => {
  test('\\d and \\w become the ASCII classes JavaScript means, inside and outside classes', () => {
    assert.equal(portablePattern('^[A-Za-z][\\w.-]*$'), '^[A-Za-z][A-Za-z0-9_.-]*$');
    assert.equal(portablePattern('^(\\d+)(ms|s)$'), '^([0-9]+)(ms|s)$');
    assert.equal(portablePattern('a\\\\d\\.'), 'a\\\\d\\.', 'an escaped backslash and other escapes stay');
  });
});
