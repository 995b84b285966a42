/**
 * Registers a namespace on a real cluster with the project's custom search attributes, and waits
 * until the frontend accepts queries on them. (The dev server does both at start; a cluster
 * starts with none of its own.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../workflows/contracts/run';
import { ensureSearchAttributes } from '../search-attributes';

const GRPC_ALREADY_EXISTS = 6;
/** The server's namespace cache refresh (system.namespaceCacheRefreshInterval, 2 s by default). */
const NAMESPACE_CACHE_REFRESH_MS = 2_000;

export interface RegisterNamespaceOptions {
  retentionDays?: number;
  timeoutMs?: number;
}

export async function registerNamespace(
  connection: Connection,
  namespace: string,
  opts: RegisterNamespaceOptions = {},
): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(`${opts.retentionDays ?? 3} days`),
    });
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
  }
  const added = await ensureSearchAttributes(connection, namespace);
  await untilSearchAttributesQueryable(connection, namespace, opts.timeoutMs ?? 30_000);
  // The frontend sees them; history and matching refresh their namespace cache on the same
  // period, and a run started before that would fail its search attribute upserts.
  if (added.length > 0) await sleep(NAMESPACE_CACHE_REFRESH_MS);
}

/** A visibility query naming every custom attribute fails until the frontend's cache has them. */
async function untilSearchAttributesQueryable(connection: Connection, namespace: string, timeoutMs: number) {
  const query = Object.keys(CUSTOM_SEARCH_ATTRIBUTES)
    .map((name) => `${name} IS NULL`)
    .join(' AND ');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace, query });
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`namespace ${namespace}: search attributes not queryable after ${timeoutMs} ms: ${err}`);
      }
      await sleep(200);
    }
  }
}
