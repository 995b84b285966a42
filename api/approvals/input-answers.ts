/**
 * Answers to an input (an MCP server's elicitation, PendingApproval kind `input`) through the
 * approvals decide route: `accept` with `content` matching the requested schema, `decline`, or
 * `cancel`. They travel to the run as the approval decision the desk takes (accept = approve with
 * content; decline = reject; cancel = reject with choice `cancel`).
 */
import type { Client } from '@temporalio/client';
import { contentProblems } from '../../activities/mcp/client-requests/content-check';
import { CANCEL_CHOICE, INPUT_APPROVAL_PART } from '../../workflows/contracts/mcp-client';
import { PENDING_APPROVALS_MEMO } from '../../workflows/contracts/run';
import { ConflictException } from '@nestjs/common';
import { RequestValidationError } from '../validation/request-validation.error';
import { pendingApprovalsOf } from './pending-memo';

export const INPUT_ANSWERS = ['accept', 'decline', 'cancel'] as const;
export type InputAnswer = (typeof INPUT_ANSWERS)[number];

export interface DecisionFields {
  decision: 'approve' | 'reject' | InputAnswer;
  content?: Record<string, unknown>;
  choice?: string;
}

export type DeskDecision = { decision: 'approve' | 'reject'; content?: Record<string, unknown>; choice?: string };

export const isInputAnswer = (d: string): d is InputAnswer => (INPUT_ANSWERS as readonly string[]).includes(d);

const bad = (path: string, message: string) => new RequestValidationError([{ path, message }]);
/** The body is well formed, but not what this step takes: the step's kind decides (409). */
const wrongKind = (message: string) => new ConflictException({ statusCode: 409, error: 'Conflict', message });

/**
 * The decision the run takes for `body`. An input's answer is checked against the pending input
 * in the run's memo (400 naming the field); when the run or the step is not waiting, the run's
 * own refusal (404/409) says so.
 */
export async function deskDecision(client: Client, workflowId: string, stepId: string, body: DecisionFields) {
  const { decision, content, choice } = body;
  // Input ids are `<step>~input-<n>`, which no approval id can be: no need to ask the run.
  const isInput = stepId.includes(INPUT_APPROVAL_PART);
  if (!isInputAnswer(decision)) {
    if (isInput) throw wrongKind(`"${stepId}" is an input: answer it with accept, decline or cancel`);
    if (content !== undefined) throw bad('content', 'only taken with "decision": "accept" (an answer to an input)');
    return { decision, ...(choice !== undefined && { choice }) } as DeskDecision;
  }
  if (!isInput) throw wrongKind(`"${stepId}" is an approval: decide it with approve or reject`);
  if (choice !== undefined) throw bad('choice', 'an input is answered with accept, decline or cancel, not a choice');
  if (decision !== 'accept' && content !== undefined) throw bad('content', 'only taken with "decision": "accept"');
  if (decision === 'accept' && content === undefined)
    throw bad('content', 'required to accept: the answer to the input');
  if (decision === 'accept') {
    const description = await client.workflow.getHandle(workflowId).describe();
    const memo = pendingApprovalsOf(description.memo?.[PENDING_APPROVALS_MEMO]);
    const pending = memo.find((p) => p.stepId === stepId);
    // Not pending (any more): the run's own refusal says why (409).
    const problems = pending?.requestedSchema ? contentProblems(pending.requestedSchema, content) : [];
    if (problems.length)
      throw new RequestValidationError(
        problems.map((p) => {
          const at = p.indexOf(': ');
          return { path: p.slice(0, at), message: p.slice(at + 2) };
        }),
      );
  }
  if (decision === 'accept') return { decision: 'approve', content } as DeskDecision;
  return { decision: 'reject', ...(decision === 'cancel' && { choice: CANCEL_CHOICE }) } as DeskDecision;
}
