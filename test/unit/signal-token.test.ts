/**
 * Scoped decision tokens (activities/identity/signal-token.ts) and the worker's check of them
 * (decision-token.ts, run in the SDK's activity environment so it sees a run's workflow id): a
 * token names one run, step and decision; a tampered, expired or link-keyed token is refused, and
 * a link verifier refuses a decision token; APPROVAL_SIGNAL_BEARER=off keeps scoped tokens only;
 * no refusal repeats the token. Also: the CLI line the API hands out reads back as the same words.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  ApprovalLinkError,
  mintApprovalLink,
  newLinkNonce,
  verifyApprovalLink,
} from '../../activities/identity/approval-links';
import { BEARER_OFF_REASON, createIdentityActivities } from '../../activities/identity/decision-token';
import {
  mintSignalToken,
  SignalTokenError,
  verifySignalToken,
  SIGNAL_TOKEN_PREFIX,
} from '../../activities/identity/signal-token';
import { signalCommand } from '../../api/approvals/signal-command';
import type { DecisionScope, TokenCheck } from '../../workflows/contracts/run';
import { testAuth } from '../helpers/api-auth';

const auth = testAuth();
const secret = auth.env.SIGNING_SECRET;
const RUN = 'release:r1';
const claims = {
  workflowId: RUN,
  stepId: 'approve',
  decision: 'approve' as const,
  user: 'ana',
  groups: ['release-managers'],
  exp: Date.now() + 60_000,
};

/** The worker's check, as the run `workflowId` calls it. */
function check(
  token: string,
  scope: DecisionScope | undefined,
  env: NodeJS.ProcessEnv = auth.env,
  workflowId = RUN,
): Promise<TokenCheck> {
  const activity = new MockActivityEnvironment({ workflowExecution: { workflowId, runId: 'r' } });
  return activity.run(createIdentityActivities(env).verifyDecisionToken, token, scope);
}

function refusal(result: TokenCheck): string {
  assert.equal(result.ok, false, JSON.stringify(result));
  return result.ok ? '' : result.reason;
}

describe('the decision token format', () => {
  test('verifies as minted, with a fresh nonce each time', () => {
    const token = mintSignalToken(claims, secret);
    assert.ok(token.startsWith(SIGNAL_TOKEN_PREFIX));
    const read = verifySignalToken(token, secret, Date.now());
    assert.deepEqual({ ...read, nonce: undefined }, { ...claims, nonce: undefined });
    assert.notEqual(read.nonce, verifySignalToken(mintSignalToken(claims, secret), secret, Date.now()).nonce);
  });

  test('tampered, expired, another secret, or a link: refused with a reason that does not repeat the token', () => {
    const token = mintSignalToken(claims, secret);
    const [, body, mac] = token.split('.');
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), stepId: 'other' }),
    ).toString('base64url');
    const link = mintApprovalLink({ ...claims, nonce: newLinkNonce() }, secret);
    const cases: Array<[string, string, number]> = [
      [`${SIGNAL_TOKEN_PREFIX}${widened}.${mac}`, 'bad-signature', Date.now()],
      [token, 'expired', claims.exp],
      [mintSignalToken(claims, randomBytes(32).toString('hex')), 'bad-signature', Date.now()],
      [`${SIGNAL_TOKEN_PREFIX}${link}`, 'bad-signature', Date.now()],
      [`${SIGNAL_TOKEN_PREFIX}nonsense`, 'malformed', Date.now()],
    ];
    for (const [given, reason, now] of cases) {
      assert.throws(
        () => verifySignalToken(given, secret, now),
        (err) => err instanceof SignalTokenError && err.reason === reason && !err.message.includes(given),
      );
    }
  });

  test('a link verifier refuses a decision token, with or without its prefix', () => {
    const token = mintSignalToken(claims, secret);
    for (const given of [token, token.slice(SIGNAL_TOKEN_PREFIX.length)]) {
      assert.throws(
        () => verifyApprovalLink(given, secret, Date.now()),
        (err) => err instanceof ApprovalLinkError && err.reason !== 'expired',
      );
    }
  });
});

describe("the worker's check of a decision token", () => {
  const scope: DecisionScope = { stepId: 'approve', decision: 'approve' };

  test("this run, the signal's step and decision: the identity it was minted for, and its nonce", async () => {
    const token = mintSignalToken(claims, secret);
    const result = await check(token, scope);
    assert.deepEqual(result, {
      ok: true,
      identity: { user: 'ana', groups: ['release-managers'], roles: ['approver'] },
      nonce: verifySignalToken(token, secret, Date.now()).nonce,
    });
  });

  test('another run, step or decision, an expired token, no scope: refused, naming what differs', async () => {
    const token = mintSignalToken(claims, secret);
    assert.equal(refusal(await check(token, scope, auth.env, 'release:r2')), 'the decision token is for another run');
    assert.equal(
      refusal(await check(token, { stepId: 'deploy', decision: 'approve' })),
      'the decision token is for step "approve", not "deploy"',
    );
    assert.equal(
      refusal(await check(token, { stepId: 'approve', decision: 'reject' })),
      'the decision token is for "approve", not "reject"',
    );
    assert.match(refusal(await check(token, undefined)), /step and decision were not given/);
    const expired = mintSignalToken({ ...claims, exp: Date.now() - 1 }, secret);
    assert.equal(refusal(await check(expired, scope)), 'the decision token has expired (expired)');
  });

  test('a worker without SIGNING_SECRET refuses decision tokens and still checks bearer tokens', async () => {
    const noSecret = { AUTH_TOKENS_FILE: auth.tokensFile };
    assert.match(refusal(await check(mintSignalToken(claims, secret), scope, noSecret)), /no SIGNING_SECRET/);
    const bearer = await check(auth.tokens.ana, scope, noSecret);
    assert.equal(bearer.ok && bearer.identity.user, 'ana');
  });

  test('APPROVAL_SIGNAL_BEARER=off refuses bearer tokens and keeps decision tokens', async () => {
    const off = { ...auth.env, APPROVAL_SIGNAL_BEARER: 'off' };
    assert.equal(refusal(await check(auth.tokens.ana, scope, off)), BEARER_OFF_REASON);
    assert.equal((await check(mintSignalToken(claims, secret), scope, off)).ok, true);
    assert.throws(
      () => createIdentityActivities({ ...auth.env, APPROVAL_SIGNAL_BEARER: 'no' }),
      /APPROVAL_SIGNAL_BEARER/,
    );
  });
});

describe('the CLI line', () => {
  test('over TLS with an API key: --tls, and the key only by reference to TEMPORAL_API_KEY', async () => {
    const input = { stepId: 'ship', decision: 'approve' as const, token: 't' };
    const temporal = {
      address: 'ns.tmprl.cloud:7233',
      namespace: 'ns',
      access: { tls: true, apiKey: 'secret-key-value', source: 'environment', explicit: true },
    };
    const line = signalCommand(temporal, 'wf', input);
    assert.ok(!line.includes('secret-key-value'), 'the key itself is never printed');
    const script = `temporal() { printf '%s\\n' "$@"; }; ${line}`;
    const { stdout } = await promisify(execFile)('/bin/sh', ['-c', script], {
      env: { ...process.env, TEMPORAL_API_KEY: 'from-the-shell' },
    });
    const words = stdout.split('\n').slice(0, -1);
    assert.equal(words[words.indexOf('--tls') - 1], 'ns');
    assert.equal(words[words.indexOf('--api-key') + 1], 'from-the-shell');
  });

  test('a shell reads back the very words, whatever the workflow id holds', async () => {
    const workflowId = `it's "odd" $HOME \`x\` ; rm -rf / #`;
    const input = { stepId: "ship 'it'", decision: 'approve' as const, token: mintSignalToken(claims, secret) };
    const line = signalCommand({ address: '127.0.0.1:7233', namespace: 'default' }, workflowId, input);
    assert.ok(line.startsWith('temporal workflow signal --address 127.0.0.1:7233 --namespace default '));
    // The shell prints each word on a line of its own instead of running the CLI.
    const script = `temporal() { printf '%s\\n' "$@"; }; ${line}`;
    const { stdout } = await promisify(execFile)('/bin/sh', ['-c', script]);
    assert.deepEqual(stdout.split('\n').slice(0, -1), [
      'workflow',
      'signal',
      '--address',
      '127.0.0.1:7233',
      '--namespace',
      'default',
      '--workflow-id',
      workflowId,
      '--name',
      'approve',
      '--input',
      JSON.stringify(input),
    ]);
  });
});
