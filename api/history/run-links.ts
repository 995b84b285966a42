/**
 * Both directions of the rerun link for GET /workflows/:id: the run a rerun or retry repeats
 * (its memo), and the reruns and retries of a run (a visibility query on AgentRerunOf: the old
 * run's memo cannot change once it ran).
 */
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

export async function runLinksOf(
  client: Client,
  config: TemporalConfig,
  description: WorkflowExecutionDescription,
): Promise<RunLinks> {
  const links: RunLinks = {};
  const rerunOf = linkOf(description.memo?.[RERUN_OF_MEMO]);
  if (rerunOf) links.rerunOf = rerunOf;
  try {
    const response = await client.workflowService.listWorkflowExecutions({
      namespace: config.namespace,
      query: `${RERUN_OF_ATTRIBUTE.name} = ${quoteVisibilityValue(description.workflowId)}`,
      pageSize: MAX_RERUNS,
    });
    const seen = new Set<string>();
    links.reruns = [];
    // Newest first; a rerun that continued as new is listed once, as its latest execution.
    for (const e of response.executions ?? []) {
      const workflowId = e.execution?.workflowId ?? '';
      if (seen.has(workflowId)) continue;
      seen.add(workflowId);
      const memo = e.memo?.fields?.[RERUN_OF_MEMO];
      const link = linkOf(memo ? defaultPayloadConverter.fromPayload(memo) : undefined);
      links.reruns.push({
        workflowId,
        runId: e.execution?.runId ?? '',
        kind: link?.kind ?? 'rerun',
        fromStep: link?.fromStep ?? null,
        status: runStatusOf(temporal.api.enums.v1.WorkflowExecutionStatus[e.status ?? 0]),
        startTime: isoOf(e.startTime),
      });
    }
  } catch (err) {
    links.rerunsError = `reruns not listed: ${describeTemporalError(err)}`;
  }
  return links;
}
