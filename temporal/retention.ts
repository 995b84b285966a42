/**
 * The namespace's retention (how long closed runs stay in history and visibility, so also what
 * GET /analytics/summary can see), from TEMPORAL_RETENTION, applied by `npm start` and the cluster
 * script where the operator API allows it. Unset: the namespace keeps what it has.
 */
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { durationSchema, durationToMs, isDuration } from '../workflows/contracts/duration';
import { parseConfig } from '../config/config-errors';
import { z } from 'zod';

export const RETENTION_ENV = 'TEMPORAL_RETENTION';
/** Temporal refuses a retention under one day. */
const MIN_RETENTION_MS = 24 * 3600_000;

const schema = z.object({
  [RETENTION_ENV]: durationSchema
    .refine((d) => !isDuration(d) || durationToMs(d) >= MIN_RETENTION_MS, {
      message: 'must be at least 1d (Temporal’s minimum)',
    })
    .optional(),
});

/** The configured retention in ms, or undefined when TEMPORAL_RETENTION is unset. */
export function loadRetentionMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[RETENTION_ENV]?.trim() || undefined;
  const parsed = parseConfig(schema, { [RETENTION_ENV]: raw }, 'environment');
  const value = parsed[RETENTION_ENV];
  return value === undefined ? undefined : durationToMs(value);
}

/** Sets the namespace's retention to `ms` when it differs; returns whether it changed anything. */
export async function applyRetention(connection: Connection, namespace: string, ms: number): Promise<boolean> {
  const seconds = Math.round(ms / 1000);
  const described = await connection.workflowService.describeNamespace({ namespace });
  const current = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (current === seconds) return false;
  await connection.workflowService.updateNamespace({
    namespace,
    // The server changes only the config fields that are set.
    config: { workflowExecutionRetentionTtl: msToTs(seconds * 1000) },
  });
  return true;
}
