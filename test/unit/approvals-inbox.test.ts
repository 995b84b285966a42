/**
 * The inbox's pure parts: the visibility query and per-approval filter, memo parsing, content
 * negotiation, HTML escaping and CSP, the page's CSRF token, link lifetimes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ApprovalLinkError } from '../../activities/identity/approval-links';
import { linkExpiry, linkFailure } from '../../api/approvals/approval-links.service';
import { listApprovalsQuerySchema, mintLinksBodySchema } from '../../api/approvals/approval-requests';
import { approvalMatches, buildInboxQuery, entriesNaming } from '../../api/approvals/inbox-query';
import { pendingApprovalsOf } from '../../api/approvals/pending-memo';
import { html, PAGE_CSP, page } from '../../api/approvals/page/html';
import { inboxPage } from '../../api/approvals/page/inbox-page';
import { prefersHtml } from '../../api/approvals/page/negotiate';
import { csrfMatches, csrfTokenFor } from '../../api/approvals/page/session';
import type { PendingApproval } from '../../workflows/contracts/run';

const ana = { user: 'ana', groups: ['release-managers'], roles: ['approver' as const] };
const pending = (over: Partial<PendingApproval> = {}): PendingApproval => ({
  stepId: 'approve',
  requestedAt: '2026-01-01T00:00:00.000Z',
  onTimeout: 'reject',
  ...over,
});

test('the visibility query narrows to running runs with a pending approval, then by each filter', () => {
  assert.equal(buildInboxQuery({}), 'ExecutionStatus = "Running" AND AgentApprovalSince IS NOT NULL');
  const q = buildInboxQuery({
    spec: 'release',
    approver: 'ana',
    group: 'ops',
    requestedBefore: Date.parse('2026-01-01T01:00:00Z'),
  });
  assert.match(q, /AgentSpec = "release"/);
  assert.match(q, /AgentApprovers IN \("ana", "user:ana", "group:ana"\)/);
  assert.match(buildInboxQuery({ approver: 'user:ana' }), /AgentApprovers IN \("ana", "user:ana"\)$/);
  assert.match(buildInboxQuery({ approver: 'group:ops' }), /AgentApprovers IN \("ops", "group:ops"\)$/);
  assert.match(q, /AgentApprovers IN \("ops", "group:ops"\)/);
  assert.match(q, /AgentApprovalSince <= "2026-01-01T01:00:00.000Z"/);
  assert.match(
    buildInboxQuery({ decidableBy: ana }),
    /AgentApprovers IN \("\*", "ana", "user:ana", "release-managers", "group:release-managers"\)/,
  );
  assert.deepEqual(entriesNaming({ user: 'bo', groups: [] }), ['*', 'bo', 'user:bo']);
});

test('each approval of a run is matched on its own (visibility holds the union of a run’s approvers)', () => {
  const forGroup = pending({ approvers: ['group:release-managers'] });
  const forBo = pending({ stepId: 'other', approvers: ['user:bo'] });
  const open = pending({ stepId: 'open' });
  assert.equal(approvalMatches(forGroup, { group: 'release-managers' }), true);
  assert.equal(approvalMatches(forBo, { group: 'release-managers' }), false);
  assert.equal(approvalMatches(forBo, { approver: 'bo' }), true);
  assert.equal(approvalMatches(open, { approver: 'bo' }), false, 'an open approval names nobody');
  assert.equal(approvalMatches(forGroup, { approver: 'release-managers' }), true, 'a bare name: user or group');
  assert.equal(approvalMatches(forGroup, { approver: 'group:release-managers' }), true);
  assert.equal(approvalMatches(forGroup, { approver: 'user:release-managers' }), false);
  assert.equal(approvalMatches(forGroup, { decidableBy: ana }), true);
  assert.equal(approvalMatches(forBo, { decidableBy: ana }), false);
  assert.equal(approvalMatches(open, { decidableBy: ana }), true);
  assert.equal(approvalMatches(open, { decidableBy: { ...ana, roles: ['viewer'] } }), false, 'needs the approver role');
  const cutoff = Date.parse('2026-01-01T00:30:00Z');
  assert.equal(approvalMatches(forGroup, { requestedBefore: cutoff }), true);
  assert.equal(approvalMatches(pending({ requestedAt: '2026-01-01T01:00:00Z' }), { requestedBefore: cutoff }), false);
});

test('memo entries that are not pending approvals are skipped, not a 500', () => {
  assert.deepEqual(pendingApprovalsOf(undefined), []);
  assert.deepEqual(pendingApprovalsOf({ stepId: 'x' }), []);
  const parsed = pendingApprovalsOf([pending({ approvers: ['ana'] }), { stepId: 3 }, null, 'x']);
  assert.deepEqual(
    parsed.map((p) => [p.stepId, p.approvers]),
    [['approve', ['ana']]],
  );
});

test('query and body validation: durations, booleans, principals without quotes', () => {
  const ok = listApprovalsQuerySchema.parse({ olderThan: '1h', mine: 'true', approver: 'ana@example.com' });
  assert.deepEqual([ok.olderThan, ok.mine, ok.approver], [3_600_000, true, 'ana@example.com']);
  for (const bad of [{ olderThan: 'soon' }, { olderThan: '0s' }, { mine: 'yes' }, { approver: 'a"b' }, { group: '' }]) {
    assert.equal(listApprovalsQuerySchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(mintLinksBodySchema.parse({ expiresIn: '2d' })?.expiresIn, 2 * 86_400_000);
  assert.equal(mintLinksBodySchema.safeParse({ expiresIn: '8d' }).success, false, 'at most 7 days');
  assert.equal(mintLinksBodySchema.parse(undefined), undefined);
});

test('HTML only for clients that rank it above JSON', () => {
  assert.equal(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), true);
  assert.equal(prefersHtml('*/*'), false);
  assert.equal(prefersHtml(undefined), false);
  assert.equal(prefersHtml('application/json'), false);
  assert.equal(prefersHtml('application/json, text/html;q=0.5'), false);
  assert.equal(prefersHtml('text/*'), true);
});

test('pages escape every value and allow only their own stylesheet', () => {
  const hostile = '<script>alert(1)</script> & "quotes"';
  const out = inboxPage({
    identity: { user: '<img src=x>', groups: [], roles: ['approver'] },
    approvals: [
      {
        workflowId: 'w"><b>',
        runId: 'r',
        spec: 's',
        stepId: 'approve',
        prompt: hostile,
        approvers: [],
        requestedAt: 't',
        timeoutAt: null,
        onTimeout: 'reject',
        escalatedAt: null,
        choices: ['<x>'],
        mayDecide: true,
        links: { run: 'http://a/w', webUi: 'javascript:alert(1)"', decide: 'http://a/d' },
      },
    ],
    csrf: 'c"srf',
    more: false,
  });
  assert.ok(!out.includes('<script>'));
  assert.ok(!out.includes('<img'));
  assert.ok(out.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;'));
  assert.ok(out.includes('value="c&quot;srf"'));
  assert.ok(out.includes('w&quot;&gt;&lt;b&gt;'));
  assert.equal(html`${['<a>', html`<i>x</i>`]}`.text, '&lt;a&gt;<i>x</i>');
  // The CSP names the hash of the one inline stylesheet the pages carry.
  const style = /<style>([\s\S]*?)<\/style>/.exec(page('t', html``))?.[1] ?? '';
  const hash = createHash('sha256').update(style).digest('base64');
  assert.ok(PAGE_CSP.includes(`'sha256-${hash}'`));
  assert.match(PAGE_CSP, /default-src 'none'/);
  assert.match(PAGE_CSP, /form-action 'self'/);
});

test('the CSRF token is bound to the session and the secret', () => {
  const secret = 'x'.repeat(32);
  const token = csrfTokenFor('session-a', secret);
  assert.equal(csrfMatches(token, 'session-a', secret), true);
  assert.equal(csrfMatches(token, 'session-b', secret), false);
  assert.equal(csrfMatches(token, 'session-a', 'y'.repeat(32)), false);
  assert.equal(csrfMatches(undefined, 'session-a', secret), false);
  assert.equal(csrfMatches('', 'session-a', secret), false);
});

test('links live until the approval times out, a day without one, never past 7 days', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const hour = 3_600_000;
  assert.equal(linkExpiry(now, undefined, '2026-01-01T05:00:00Z'), now + 5 * hour);
  assert.equal(linkExpiry(now, undefined, undefined), now + 24 * hour);
  assert.equal(linkExpiry(now, undefined, '2025-12-31T00:00:00Z'), now + 24 * hour, 'a timeout already past');
  assert.equal(linkExpiry(now, undefined, '2026-03-01T00:00:00Z'), now + 7 * 24 * hour);
  assert.equal(linkExpiry(now, 2 * hour, '2026-01-01T05:00:00Z'), now + 2 * hour);
  assert.equal(
    (linkFailure(new ApprovalLinkError('expired', 'x')) as unknown as { getStatus(): number }).getStatus(),
    410,
  );
  assert.equal(
    (linkFailure(new ApprovalLinkError('bad-signature', 'x')) as unknown as { getStatus(): number }).getStatus(),
    400,
  );
});
