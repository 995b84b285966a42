/**
 * The document's patterns for bounded values say exactly what the server accepts: a value the
 * pattern allows is valid, one it refuses is a 400 (what the API fuzzer checks, both ways).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { mintApprovalLink, newLinkNonce } from '../../activities/identity/approval-links';
import {
  linkTokenParamSchema,
  listApprovalsQuerySchema,
  mintLinksBodySchema,
} from '../../api/approvals/approval-requests';
import { zodComponents } from '../../api/openapi/components';
import { applyDocOverrides } from '../../api/openapi/doc-overrides';
import { positiveIntegerPattern } from '../../api/openapi/range-pattern';

test('positiveIntegerPattern(max) matches exactly 1..max, without leading zeros', () => {
  for (const max of [1, 7, 9, 10, 99, 100, 168, 1000, 1009, 10080]) {
    const re = new RegExp(`^(?:${positiveIntegerPattern(max)})$`);
    for (let n = 0; n <= max + 1200; n++) assert.equal(re.test(String(n)), n >= 1 && n <= max, `${n} of 1..${max}`);
    assert.equal(re.test('01'), false);
  }
  const big = new RegExp(`^(?:${positiveIntegerPattern(604_800_000)})$`);
  for (const [n, ok] of [
    [604_800_000, true],
    [604_800_001, false],
    [604_799_999, true],
    [599_999_999, true],
    [999_999_999, false],
    [6_048_000_000, false],
  ] as const) {
    assert.equal(big.test(String(n)), ok, String(n));
  }
  assert.throws(() => positiveIntegerPattern(0), RangeError);
});

const SAMPLES = [
  ...['0ms', '0s', '0d', '1ms', '59s', '7d', '8d', '168h', '169h', '10080m', '10081m', '604800s', '604801s'],
  ...['604800000ms', '604800001ms', '36500d', '36501d', '3153600000000ms', '3153600000001ms'],
  ...['1.5h', '01h', '1H', ' 1h', '1', 'h', '', '1hh', '١h'],
];

function documented(schema: z.ZodType): Record<string, { pattern?: string }> {
  return (
    z.toJSONSchema(schema, {
      io: 'input',
      target: 'openapi-3.0',
      unrepresentable: 'any',
      override: applyDocOverrides,
    }) as {
      properties: Record<string, { pattern?: string }>;
    }
  ).properties;
}

test('olderThan and expiresIn: the document’s pattern accepts exactly what the server does (no 0ms, nothing past the limit)', () => {
  const expiresIn = (zodComponents().MintLinksBody as { properties: Record<string, { pattern?: string }> }).properties
    .expiresIn?.pattern;
  const olderThan = documented(listApprovalsQuerySchema).olderThan?.pattern;
  assert.ok(expiresIn && olderThan);
  for (const value of SAMPLES) {
    assert.equal(
      new RegExp(expiresIn).test(value),
      mintLinksBodySchema.safeParse({ expiresIn: value }).success,
      `expiresIn ${JSON.stringify(value)}`,
    );
    assert.equal(
      new RegExp(olderThan).test(value),
      listApprovalsQuerySchema.safeParse({ olderThan: value }).success,
      `olderThan ${JSON.stringify(value)}`,
    );
  }
  assert.equal(mintLinksBodySchema.parse({ expiresIn: '168h' })?.expiresIn, 7 * 86_400_000);
  assert.equal(listApprovalsQuerySchema.parse({ olderThan: '36500d' }).olderThan, 36_500 * 86_400_000);
});

test('a link token’s pattern: every token the server mints matches; a signature of another length does not', () => {
  const token = mintApprovalLink(
    {
      workflowId: 'approval-release:r1',
      stepId: 'approve',
      decision: 'approve',
      user: 'ana',
      groups: ['release-managers'],
      exp: Date.now() + 60_000,
      nonce: newLinkNonce(),
    },
    'x'.repeat(32),
  );
  assert.equal(linkTokenParamSchema.safeParse(token).success, true);
  const [claims, signature] = token.split('.') as [string, string];
  assert.equal(signature.length, 43);
  for (const bad of [`${claims}.${signature.slice(1)}`, `${claims}.${signature}A`, `${claims}`, `.${signature}`]) {
    assert.equal(linkTokenParamSchema.safeParse(bad).success, false, bad);
  }
});
