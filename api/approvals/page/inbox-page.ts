/** The inbox page at /approvals: sign-in form, the list with a decision form per approval, sign out. */
import type { Identity } from '../../../workflows/contracts/identity';
import type { PendingApprovalItem } from '../approval-views';
import { html, page, type SafeHtml } from './html';
import type { Flash } from './session';

export const INBOX_PATH = '/approvals';
export const SIGN_IN_PATH = '/approvals/session';
export const SIGN_OUT_PATH = '/approvals/sign-out';
export const DECIDE_PATH = '/approvals/decide';

function flashBlock(flash: Flash | undefined): SafeHtml {
  return html`${flash && html`<p class="flash ${flash.kind}" role="status">${flash.message}</p>`}`;
}

export function signInPage(opts: { flash?: Flash; status?: string } = {}): string {
  return page(
    'Sign in — approvals',
    html`<header><h1>Approvals</h1></header>
      ${flashBlock(opts.flash)} ${opts.status && html`<p class="meta">${opts.status}</p>`}
      <form method="post" action="${SIGN_IN_PATH}">
        <label for="token">Bearer token</label>
        <input type="password" id="token" name="token" autocomplete="off" required />
        <button type="submit">Sign in</button>
      </form>
      <p class="meta">The token is checked like any API call and kept in an HttpOnly cookie for this page only.</p>`,
  );
}

function approvalBlock(item: PendingApprovalItem, csrf: string): SafeHtml {
  const approvers = item.approvers.length ? item.approvers.join(', ') : 'anyone with the approver role';
  return html`<article data-workflow-id="${item.workflowId}" data-step-id="${item.stepId}">
    <h2>${item.spec ?? 'run'} · ${item.stepId}</h2>
    <p class="meta">
      Run <code>${item.workflowId}</code> (<a href="${item.links.webUi}">Web UI</a>) · requested
      ${item.requestedAt}${item.timeoutAt && html` · times out ${item.timeoutAt} (then ${item.onTimeout})`}${
        item.escalatedAt && html` · escalated ${item.escalatedAt}`
      }
    </p>
    <p class="meta">Approvers: ${approvers}</p>
    ${item.prompt && html`<p class="prompt">${item.prompt}</p>`}
    ${item.kind === 'input' ? inputNote(item) : decisionForm(item, csrf)}
  </article>`;
}

/** An MCP server's request for input takes content this page has no form for: the API answers it. */
function inputNote(item: PendingApprovalItem): SafeHtml {
  return html`<p class="meta">
      Input for the MCP server ${item.server ?? ''}: answer with POST ${item.links.decide} and
      <code>{"decision": "accept", "content": {…}}</code>, <code>decline</code> or <code>cancel</code>.
    </p>
    <pre>${JSON.stringify(item.requestedSchema ?? {}, null, 2)}</pre>`;
}

function decisionForm(item: PendingApprovalItem, csrf: string): SafeHtml {
  return html`<form method="post" action="${DECIDE_PATH}">
    <input type="hidden" name="csrf" value="${csrf}" />
    <input type="hidden" name="workflowId" value="${item.workflowId}" />
    <input type="hidden" name="stepId" value="${item.stepId}" />
    <label>Comment <textarea name="comment" maxlength="10000"></textarea></label>
    ${
      item.choices.length > 0 &&
      html`<label
        >Choice
        <select name="choice">
          ${item.choices.map((c) => html`<option value="${c}">${c}</option>`)}
        </select></label
      >`
    }
    <button type="submit" name="decision" value="approve">Approve</button>
    <button type="submit" name="decision" value="reject">Reject</button>
  </form>`;
}

export function inboxPage(opts: {
  identity: Identity;
  approvals: PendingApprovalItem[];
  csrf: string;
  flash?: Flash;
  more: boolean;
}): string {
  const { identity } = opts;
  const groups = identity.groups.length ? ` (${identity.groups.join(', ')})` : '';
  return page(
    'Approvals',
    html`<header>
        <h1>Approvals</h1>
        <form method="post" action="${SIGN_OUT_PATH}">
          <span class="meta">Signed in as ${identity.user}${groups}</span>
          <input type="hidden" name="csrf" value="${opts.csrf}" /><button type="submit">Sign out</button>
        </form>
      </header>
      ${flashBlock(opts.flash)}
      ${
        opts.approvals.length === 0
          ? html`<p>Nothing waits for your decision.</p>`
          : opts.approvals.map((item) => approvalBlock(item, opts.csrf))
      }
      ${opts.more && html`<p class="meta">More approvals wait than one page shows: decide these first, or use GET /approvals.</p>`}`,
  );
}

export function errorPage(status: number, message: string, back = INBOX_PATH): string {
  return page(
    `${status} — approvals`,
    html`<header><h1>Approvals</h1></header>
      <p class="flash error" role="alert">${status}: ${message}</p>
      <p><a href="${back}">Back to the approvals</a></p>`,
  );
}
