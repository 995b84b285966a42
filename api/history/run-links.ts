/**
 * Both directions of the rerun link for GET /workflows/:id: the run a rerun or retry repeats
 * (its memo), and the reruns and retries of a run (a visibility query on AgentRerunOf: the old
 * run's memo cannot change once it ran). The listing is a visibility query, the dearest call of
 * a GET: it is made for closed runs only, which alone can have been rerun.
 */
import { codecsOf, decryptPayloadsInPlace } from '../../temporal/codec/data-converter';
import { defaultPayloadConverter, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TemporalConfig } from '../../temporal/config';
import { RERUN_OF_ATTRIBUTE } from '../../workflows/contracts/run';
import { describeTemporalError } from '../temporal/temporal-errors';
import { runStatusOf } from '../workflows/run-status';
import { quoteVisibilityValue } from '../workflows/visibility-query';
import { rerunLinkSchema, type RerunLink, type RunLinks } from './history-views';

/** The memo key under which a rerun or retry names the run it repeats (a RerunLink). */
export const RERUN_OF_MEMO = 'rerunOf';

/** Reruns listed at most; a run repeated more often than this shows the newest. */
const MAX_RERUNS = 100;

function linkOf(value: unknown): RerunLink | undefined {
  const parsed = rerunLinkSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function isoOf(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!ts?.seconds) return null;
  return new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

/** The run this one repeats, from its memo (a run's memo cannot change once it ran). */
export function rerunOfLink(description: WorkflowExecutionDescription): Pick<RunLinks, 'rerunOf'> {
  const rerunOf = linkOf(description.memo?.[RERUN_OF_MEMO]);
  return rerunOf ? { rerunOf } : {};
}

/** Both directions. Only closed runs can have reruns (a rerun repeats a closed run), so callers ask for those only. */
export async function runLinksOf(
  client: Client,
  config: TemporalConfig,
  description: WorkflowExecutionDescription,
): Promise<RunLinks> {
  return { ...rerunOfLink(description), ...(await rerunsOf(client, config, description.workflowId)) };
}

/** The reruns and retries of `workflowId` (a visibility query on AgentRerunOf), newest first. */
export async function rerunsOf(
  client: Client,
  config: TemporalConfig,
  workflowId: string,
): Promise<Pick<RunLinks, 'reruns' | 'rerunsError'>> {
  try {
    const response = await client.workflowService.listWorkflowExecutions({
      namespace: config.namespace,
      query: `${RERUN_OF_ATTRIBUTE.name} = ${quoteVisibilityValue(workflowId)}`,
      pageSize: MAX_RERUNS,
    });
    decryptPayloadsInPlace(response.executions, codecsOf(client));
    const seen = new Set<string>();
    const reruns: NonNullable<RunLinks['reruns']> = [];
    // Newest first; a rerun that continued as new is listed once, as its latest execution.
    for (const e of response.executions ?? []) {
      const id = e.execution?.workflowId ?? '';
      if (seen.has(id)) continue;
      seen.add(id);
      const memo = e.memo?.fields?.[RERUN_OF_MEMO];
      const link = linkOf(memo ? defaultPayloadConverter.fromPayload(memo) : undefined);
      reruns.push({
        workflowId: id,
        runId: e.execution?.runId ?? '',
        kind: link?.kind ?? 'rerun',
        fromStep: link?.fromStep ?? null,
        status: runStatusOf(temporal.api.enums.v1.WorkflowExecutionStatus[e.status ?? 0]),
        startTime: isoOf(e.startTime),
      });
    }
    return { reruns };
  } catch (err) {
    return { rerunsError: `reruns not listed: ${describeTemporalError(err)}` };
  }
}
