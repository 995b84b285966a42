/** The Temporal CLI line that sends an `approve` signal, quoted for a POSIX shell. */
import type { TemporalConfig } from '../../temporal/config';
import type { ApprovalSignalInput } from '../../workflows/contracts/run';

/** A word as a shell reads it back unchanged: bare when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function signalCommand(
  temporal: Pick<TemporalConfig, 'address' | 'namespace'>,
  workflowId: string,
  input: ApprovalSignalInput,
): string {
  return [
    'temporal',
    'workflow',
    'signal',
    '--address',
    temporal.address,
    '--namespace',
    temporal.namespace,
    '--workflow-id',
    workflowId,
    '--name',
    'approve',
    '--input',
    JSON.stringify(input),
  ]
    .map(shellWord)
    .join(' ');
}
