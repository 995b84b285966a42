/**
 * How every process reaches Temporal, read from the environment once and shared by the API,
 * the workers and the start-up script.
 */
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../workflows/contracts/run';
import { parseConfig } from '../config/config-errors';

export interface TemporalConfig {
  /** host:port of the frontend, e.g. 127.0.0.1:7233. */
  address: string;
  namespace: string;
  /** Base URL of the Web UI, used for links to runs. */
  uiUrl: string;
  /** Task queue of the orchestrator worker (workflows and generic activities). */
  taskQueue: string;
}

const schema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: z.url('must be a URL, e.g. http://127.0.0.1:8233').default('http://127.0.0.1:8233'),
  ORCHESTRATOR_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
});

export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const parsed = parseConfig(schema, env, 'environment');
  return {
    address: parsed.TEMPORAL_ADDRESS,
    namespace: parsed.TEMPORAL_NAMESPACE,
    uiUrl: parsed.TEMPORAL_UI_URL.replace(/\/$/, ''),
    taskQueue: parsed.ORCHESTRATOR_TASK_QUEUE,
  };
}

/** Link to a run in the Web UI. */
export function runUrl(config: TemporalConfig, workflowId: string, runId?: string): string {
  const base = `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
