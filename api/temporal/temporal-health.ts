import { isGrpcDeadlineError, type Client } from '@temporalio/client';
import type { TemporalConfig } from '../../temporal/config';
import { describeTemporalError } from './temporal-errors';

export interface TemporalHealth {
  reachable: boolean;
  address: string;
  namespace: string;
  error?: string;
}

/**
 * Asks the frontend about the configured namespace, which proves both that the server answers
 * and that the namespace exists. Bounded by a deadline so a dead server cannot stall /health.
 */
export async function checkTemporal(client: Client, config: TemporalConfig, timeoutMs = 2000): Promise<TemporalHealth> {
  const base = { address: config.address, namespace: config.namespace };
  try {
    await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.workflowService.describeNamespace({ namespace: config.namespace }),
    );
    return { reachable: true, ...base };
  } catch (err) {
    const error = isGrpcDeadlineError(err) ? `no answer within ${timeoutMs} ms` : describeTemporalError(err);
    return { reachable: false, ...base, error };
  }
}
