import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

/** A run's failure chain as `Type: message <- cause <- ...`, outermost first, for assertions. */
export function failureChain(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (cur instanceof Error) {
    parts.push(cur instanceof ApplicationFailure ? `${cur.type}: ${cur.message}` : cur.message);
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join(' <- ');
}
