import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConditionError, conditionSchema, evaluateCondition } from '../../workflows/spec/condition';
import { type Condition } from '../../workflows/contracts/spec';

const id = (v: unknown) => v;

test('conditions compare JSON values', () => {
  const cases: Array<[Condition, boolean]> = [
    [{ eq: [{ a: [1, 2] }, { a: [1, 2] }] }, true],
    [{ eq: [1, '1'] }, false],
    [{ ne: ['a', 'b'] }, true],
    [{ gt: [3, 2] }, true],
    [{ gte: ['b', 'b'] }, true],
    [{ lt: [1, 2] }, true],
    [{ lte: [3, 2] }, false],
    [{ in: ['x', ['y', 'x']] }, true],
    [{ truthy: '' }, false],
    [{ and: [{ truthy: 1 }, { not: { truthy: 0 } }] }, true],
    [{ or: [{ truthy: 0 }, { eq: [null, null] }] }, true],
  ];
  for (const [cond, expected] of cases) assert.equal(evaluateCondition(cond, id), expected, JSON.stringify(cond));
});

test('operands are resolved before comparing', () => {
  const resolve = (v: unknown) => (v === '${x}' ? 5 : v);
  assert.equal(evaluateCondition({ gt: ['${x}', 4] }, resolve), true);
});

test('ordering mixed types is an error, not a silent false', () => {
  assert.throws(() => evaluateCondition({ gt: [1, 'a'] }, id), /both must be numbers or both strings/);
  assert.throws(() => evaluateCondition({ in: [1, 'abc'] }, id), /must be a list, got "abc"/);
  // A typed error, which the interpreter turns into a ConditionError failure of the step.
  assert.throws(() => evaluateCondition({ lte: [null, 2] }, id), ConditionError);
  assert.throws(() => evaluateCondition({ in: [1, { a: 1 }] }, id), ConditionError);
  assert.throws(() => evaluateCondition({ gt: ['x'.repeat(500), 1] }, id), /cannot compare "x{76}\.\.\. with 1/);
});

test('the schema rejects unknown operators and wrong arity', () => {
  assert.equal(conditionSchema.safeParse({ eq: [1, 2] }).success, true);
  assert.equal(conditionSchema.safeParse({ equals: [1, 2] }).success, false);
  assert.equal(conditionSchema.safeParse({ eq: [1] }).success, false);
  assert.equal(conditionSchema.safeParse({ and: [] }).success, false);
});
