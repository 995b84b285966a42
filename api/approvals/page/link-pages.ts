/**
 * The pages a signed link opens. GET only shows what the link would do (mail scanners and chat
 * previews fetch links); the button on it POSTs back to the same URL, which decides.
 */
import type { ApprovalResponse } from '../../workflows/run-views';
import type { ApprovalLinkView } from '../approval-views';
import { html, page } from './html';

const verb = (decision: 'approve' | 'reject') => (decision === 'approve' ? 'Approve' : 'Reject');

export function linkConfirmPage(view: ApprovalLinkView): string {
  const title = `${verb(view.decision)} step ${view.stepId}?`;
  if (!view.waiting) {
    return page(
      'Approval link',
      html`<header><h1>Approval link</h1></header>
        <p class="flash error" role="alert">
          Step <code>${view.stepId}</code> of run <code>${view.workflowId}</code> is no longer waiting for a decision.
        </p>`,
    );
  }
  return page(
    title,
    html`<header><h1>${title}</h1></header>
      <p class="meta">
        Run <code>${view.workflowId}</code> · deciding as ${view.user} · link valid until ${view.expiresAt}
      </p>
      ${view.prompt && html`<p class="prompt">${view.prompt}</p>`}
      <form method="post">
        <label>Comment <textarea name="comment" maxlength="10000"></textarea></label>
        <button type="submit">${verb(view.decision)}</button>
      </form>`,
  );
}

export function linkDonePage(result: ApprovalResponse): string {
  const done = result.decision === 'approve' ? 'Approved' : 'Rejected';
  return page(
    done,
    html`<header><h1>${done}</h1></header>
      <p class="flash ok" role="status">
        ${done} step <code>${result.stepId}</code> of run <code>${result.workflowId}</code> as ${result.by} at
        ${result.at}.
      </p>`,
  );
}

export function linkErrorPage(status: number, message: string): string {
  return page(
    'Approval link',
    html`<header><h1>Approval link</h1></header>
      <p class="flash error" role="alert">${status}: ${message}</p>`,
  );
}
