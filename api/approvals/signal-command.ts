/** The Temporal CLI line that sends an `approve` signal, quoted for a POSIX shell. */
import type { TemporalConfig } from '../../temporal/config';
import type { ApprovalSignalInput } from '../../workflows/contracts/run';

/** A word as a shell reads it back unchanged: bare when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Left for the reader's shell to expand: the line names where the key is, never the key. */
const API_KEY_FROM_ENV = '"$TEMPORAL_API_KEY"';

/**
 * The line reaches the server the API reaches: `--tls` when the API's connection uses TLS (client
 * certificates come from the CLI's own TEMPORAL_TLS_* variables or profile, as they do for the API),
 * and the API key by reference to TEMPORAL_API_KEY.
 */
export function signalCommand(
  temporal: Pick<TemporalConfig, 'address' | 'namespace' | 'access'>,
  workflowId: string,
  input: ApprovalSignalInput,
): string {
  const access = temporal.access;
  const words = ['temporal', 'workflow', 'signal', '--address', temporal.address, '--namespace', temporal.namespace];
  if (access?.tls) words.push('--tls');
  const line = [...words, '--workflow-id', workflowId, '--name', 'approve', '--input', JSON.stringify(input)]
    .map(shellWord)
    .join(' ');
  return access?.apiKey ? `${line} --api-key ${API_KEY_FROM_ENV}` : line;
}
