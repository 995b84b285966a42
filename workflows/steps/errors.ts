import { ApplicationFailure, TemporalFailure } from '@temporalio/workflow';

/** The most useful message of a failure chain: the innermost cause's, else the error's own. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApplicationFailure && err.type === 'StepFailed') return err.message;
  let current: unknown = err;
  while (current instanceof TemporalFailure && current.cause) current = current.cause;
  if (current instanceof Error) return current.message;
  return String(current);
}
