/**
 * The product's run and approval figures, read from Temporal's visibility store on scrape (no
 * second database, no counters to lose on restart). Labels stay bounded: a spec label is a name
 * from the spec store (at most MAX_SPEC_LABELS of them), every other run counts as "(other)";
 * no label ever holds a workflow or run id.
 */
import { RUN_STATUS_OF_VISIBILITY } from '../workflows/run-status';
import type { Client } from '@temporalio/client';
import {
  APPROVAL_SINCE_ATTRIBUTE,
  PENDING_APPROVALS_ATTRIBUTE,
  SPEC_NAME_ATTRIBUTE,
} from '../../workflows/contracts/run';
import { buildInboxQuery } from '../approvals/inbox-query';
import { buildRunsQuery } from '../workflows/visibility-query';

export const OTHER_SPEC = '(other)';
export const MAX_SPEC_LABELS = 200;
/** Runs waiting on an approval read per scrape; beyond it the figures are a lower bound. */
export const MAX_APPROVAL_RUNS = 10_000;

export interface RunCount {
  spec: string;
  status: string;
  count: number;
}

export interface PendingApprovals {
  spec: string;
  /** Approvals waiting for a decision (a run may wait on several). */
  pending: number;
  /** Age of the oldest of them, in seconds. */
  oldestAgeSeconds: number;
}

export interface RunFigures {
  runs: RunCount[];
  approvals: PendingApprovals[];
  /** More runs waited on approvals than were read (MAX_APPROVAL_RUNS). */
  approvalsTruncated: boolean;
}

const GROUP_BY_STATUS = ' GROUP BY ExecutionStatus';

function statusLabel(value: unknown): string {
  const name = String(value);
  return (RUN_STATUS_OF_VISIBILITY as Record<string, string>)[name] ?? name.toLowerCase();
}

async function countsByStatus(client: Client, query: string): Promise<Map<string, number>> {
  const { groups } = await client.workflow.count(query + GROUP_BY_STATUS);
  const counts = new Map<string, number>();
  for (const g of groups) {
    const status = statusLabel(g.groupValues[0]);
    counts.set(status, (counts.get(status) ?? 0) + g.count);
  }
  return counts;
}

/** Spec runs by spec and status: one grouped count per registered spec, and one for all of them. */
export async function countRuns(client: Client, specNames: readonly string[]): Promise<RunCount[]> {
  const labelled = specNames.slice(0, MAX_SPEC_LABELS);
  const [all, ...perSpec] = await Promise.all([
    countsByStatus(client, `${buildRunsQuery({})} AND ${SPEC_NAME_ATTRIBUTE.name} IS NOT NULL`),
    ...labelled.map((spec) => countsByStatus(client, buildRunsQuery({ spec }))),
  ]);
  const out: RunCount[] = [];
  const other = new Map(all);
  labelled.forEach((spec, i) => {
    for (const [status, count] of perSpec[i] ?? []) {
      out.push({ spec, status, count });
      other.set(status, (other.get(status) ?? 0) - count);
    }
  });
  for (const [status, count] of other) if (count > 0) out.push({ spec: OTHER_SPEC, status, count });
  return out;
}

/** Approvals waiting for a decision, per spec, with the age of the oldest. */
export async function pendingApprovals(
  client: Client,
  specNames: readonly string[],
  now: number,
): Promise<{ approvals: PendingApprovals[]; truncated: boolean }> {
  const labelled = new Set(specNames.slice(0, MAX_SPEC_LABELS));
  const bySpec = new Map<string, { pending: number; oldest: number }>();
  let read = 0;
  let truncated = false;
  for await (const run of client.workflow.list({ query: buildInboxQuery({}) })) {
    if (read === MAX_APPROVAL_RUNS) {
      truncated = true;
      break;
    }
    read++;
    const name = run.typedSearchAttributes.get(SPEC_NAME_ATTRIBUTE);
    const spec = name !== undefined && labelled.has(name) ? name : OTHER_SPEC;
    const pending = Math.max(1, run.typedSearchAttributes.get(PENDING_APPROVALS_ATTRIBUTE)?.length ?? 0);
    const since = run.typedSearchAttributes.get(APPROVAL_SINCE_ATTRIBUTE)?.getTime() ?? now;
    const entry = bySpec.get(spec) ?? { pending: 0, oldest: since };
    entry.pending += pending;
    entry.oldest = Math.min(entry.oldest, since);
    bySpec.set(spec, entry);
  }
  const approvals = [...bySpec].map(([spec, { pending, oldest }]) => ({
    spec,
    pending,
    oldestAgeSeconds: Math.max(0, (now - oldest) / 1000),
  }));
  return { approvals, truncated };
}
