/**
 * How every process reaches Temporal, read from the environment once and shared by the API,
 * the workers and the start-up script. The connection itself (address, namespace, TLS, API key,
 * profiles) is temporal/connection.ts's; this adds the Web UI and the orchestrator's task queue.
 */
import type { DataConverter } from '@temporalio/common';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../workflows/contracts/run';
import { ConfigError, parseConfig } from '../config/config-errors';
import { dataConverterFromEnv } from './codec/data-converter';
import { loadTemporalConnection, type TemporalAccess } from './connection';

export interface TemporalConfig {
  /** host:port of the frontend, e.g. 127.0.0.1:7233 or [::1]:7233. */
  address: string;
  namespace: string;
  /**
   * TLS, mTLS, API key and gRPC metadata, with where they came from; pass the config to
   * temporalConnectOptions(). Absent (tests' hand-made configs): plain gRPC to `address`.
   */
  access?: TemporalAccess;
  /** Base URL of the Web UI, used for links to runs. */
  uiUrl: string;
  /** Task queue of the orchestrator worker (workflows and generic activities). */
  taskQueue: string;
  /**
   * The payload codec chain every client, worker and replay of this process uses: AES-256-GCM when
   * PAYLOAD_ENCRYPTION_KEYS is set (temporal/codec); absent: the SDK's default, plain payloads.
   */
  dataConverter?: DataConverter;
}

const schema = z.object({
  TEMPORAL_UI_URL: z.url('must be a URL, e.g. http://127.0.0.1:8233').default('http://127.0.0.1:8233'),
  ORCHESTRATOR_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
});

export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const problems: ConfigError['problems'] = [];
  const collect = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  // Both read before either throws, so one start-up names every bad key.
  const connection = collect(() => loadTemporalConnection(env));
  const parsed = collect(() => parseConfig(schema, env, 'environment'));
  const dataConverter = collect(() => dataConverterFromEnv(env) ?? null);
  if (!connection || !parsed || dataConverter === undefined) throw new ConfigError('environment', problems);
  return {
    ...connection,
    uiUrl: parsed.TEMPORAL_UI_URL.replace(/\/$/, ''),
    taskQueue: parsed.ORCHESTRATOR_TASK_QUEUE,
    ...(dataConverter && { dataConverter }),
  };
}

/** Link to a run in the Web UI. */
export function runUrl(config: TemporalConfig, workflowId: string, runId?: string): string {
  const base = `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
