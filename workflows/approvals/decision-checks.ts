/**
 * Whether a decision may be taken, as typed refusals: the `approve` update's validator throws
 * them (the caller learns at once and history is unchanged), the `approve` signal records their
 * message as a refused decision. Pure functions of the desk's state.
 */
import type { ApplicationFailure } from '@temporalio/workflow';
import { mayDecide, type DecisionChannel, type Identity } from '../contracts/identity';
import type { ApprovalResult, ApprovalSignalInput, PendingApproval } from '../contracts/run';
import { alreadyDecided, refusal } from '../steps/approval';

export const DECISION_CHANNELS: readonly DecisionChannel[] = ['api', 'link', 'signal'];
/** Longer nonces are not ours (newLinkNonce makes short ones); the run keeps every accepted one. */
const MAX_NONCE_LENGTH = 200;

/** One approval as the desk holds it while it waits. */
export interface OpenApproval {
  request: PendingApproval;
  /** Set by the first accepted decision; every later one is refused. */
  decided?: ApprovalResult;
}

/** The approval `stepId` if it can take a decision now, else why not (AlreadyDecided, NotWaiting). */
export function openApproval(
  stepId: string,
  pending: ReadonlyMap<string, OpenApproval>,
  closed: ReadonlyMap<string, ApprovalResult>,
): OpenApproval | ApplicationFailure {
  const open = pending.get(stepId);
  const earlier = open ? open.decided : closed.get(stepId);
  if (earlier) return alreadyDecided(earlier);
  if (open) return open;
  const ids = [...pending.keys()];
  return refusal(
    'NotWaiting',
    `step "${stepId}" is not waiting for approval` +
      (ids.length ? ` (waiting: ${ids.join(', ')})` : ' (no step is waiting)'),
  );
}

/** The decision and choice are ones this approval offers. */
export function invalidDecision(
  input: { decision: unknown; choice?: unknown; content?: unknown },
  request: PendingApproval,
): ApplicationFailure | undefined {
  if (input.decision !== 'approve' && input.decision !== 'reject')
    return refusal('InvalidDecision', 'decision must be approve or reject');
  const content = input.content;
  const isObject = typeof content === 'object' && content !== null && !Array.isArray(content);
  if (request.kind === 'input' && input.decision === 'approve' && !isObject)
    return refusal('InvalidDecision', 'content is required to accept an input (an object matching its schema)');
  if (content !== undefined && (request.kind !== 'input' || input.decision !== 'approve'))
    return refusal('InvalidDecision', 'content is only taken when accepting an input');
  const choices = request.choices;
  if (input.choice !== undefined && !choices?.includes(input.choice as string)) {
    return refusal(
      'InvalidDecision',
      `choice must be one of: ${choices?.join(', ') || '(this step offers no choices)'}`,
    );
  }
  return undefined;
}

/** NotAnApprover unless `who` is named by the approval's approvers (all of them, after escalation). */
export function notAnApprover(
  request: PendingApproval,
  who: Pick<Identity, 'user' | 'groups'>,
): ApplicationFailure | undefined {
  if (mayDecide(request.approvers, who)) return undefined;
  const approvers = request.approvers ?? [];
  const groups = who.groups.length ? ` (groups: ${who.groups.join(', ')})` : ' (no groups)';
  return refusal(
    'NotAnApprover',
    `${who.user}${groups} may not decide step "${request.stepId}": its approvers are ${approvers.join(', ')}`,
    [{ stepId: request.stepId, approvers, user: who.user }],
  );
}

/** A link decision names its nonce, and a nonce works once. */
export function linkRefusal(
  input: { stepId: string; nonce?: unknown },
  usedNonces: ReadonlySet<string>,
): ApplicationFailure | undefined {
  const nonce = input.nonce;
  if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH)
    return refusal('InvalidDecision', "a decision through a signed link must carry the link's nonce");
  if (usedNonces.has(nonce))
    return refusal('LinkUsed', `this link was already used (step "${input.stepId}"): a signed link works once`);
  return undefined;
}

/** The groups a decider gave: a list of names, or none. */
export function isGroupList(groups: unknown): groups is string[] | undefined {
  return groups === undefined || (Array.isArray(groups) && groups.every((g) => typeof g === 'string'));
}

/** An `approve` signal's payload as sent (the CLI sends any JSON), or what is wrong with it. */
export function parseSignal(
  raw: unknown,
): { ok: true; input: ApprovalSignalInput } | { ok: false; stepId: string; reason: string } {
  const o = (raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  const stepId = typeof o.stepId === 'string' && o.stepId.length > 0 ? o.stepId.slice(0, 200) : '(none)';
  const problem =
    stepId === '(none)'
      ? 'the signal names no stepId'
      : typeof o.token !== 'string' || o.token.length === 0
        ? 'the signal carries no token (give "token": "<your bearer token>")'
        : o.comment !== undefined && typeof o.comment !== 'string'
          ? 'comment must be a string'
          : o.choice !== undefined && typeof o.choice !== 'string'
            ? 'choice must be a string'
            : undefined;
  if (problem) return { ok: false, stepId, reason: problem };
  return {
    ok: true,
    input: {
      stepId,
      decision: o.decision as ApprovalSignalInput['decision'],
      token: o.token as string,
      ...(o.comment !== undefined && { comment: o.comment as string }),
      ...(o.choice !== undefined && { choice: o.choice as string }),
    },
  };
}
