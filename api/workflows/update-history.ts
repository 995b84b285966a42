import { codecsOf, decryptPayloadsInPlace } from '../../temporal/codec/data-converter';
import type { Client } from '@temporalio/client';

/**
 * The result of a completed update, read from the history of a closed run (Temporal no longer
 * answers updates there): how a retried decision gets its first answer after the run ended.
 * Undefined when the history has no such completed update, or cannot be read.
 */
export async function completedUpdateResult<T>(
  client: Client,
  namespace: string,
  workflowId: string,
  updateId: string,
): Promise<T | undefined> {
  const converter = client.options.loadedDataConverter.payloadConverter;
  let nextPageToken: Uint8Array | undefined;
  try {
    do {
      const page = await client.workflowService.getWorkflowExecutionHistory({
        namespace,
        execution: { workflowId },
        nextPageToken,
      });
      for (const event of decryptPayloadsInPlace(page.history?.events ?? [], codecsOf(client))) {
        const completed = event.workflowExecutionUpdateCompletedEventAttributes;
        if (completed?.meta?.updateId !== updateId) continue;
        const payload = completed.outcome?.success?.payloads?.[0];
        return payload ? converter.fromPayload<T>(payload) : undefined;
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  } catch {
    return undefined;
  }
  return undefined;
}
