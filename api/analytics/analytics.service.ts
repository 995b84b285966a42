/**
 * Run analytics straight from Temporal's visibility store (no second database): counts per
 * status by CountWorkflowExecutions, durations and cost from the listed runs themselves.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { COST_USD_ATTRIBUTE } from '../../workflows/contracts/run';
import { TEMPORAL_CLIENT } from '../tokens';
import { buildRunsQuery } from '../workflows/visibility-query';
import { RUN_STATUS_OF_VISIBILITY, VISIBILITY_STATUSES } from '../workflows/run-status';
import { windowStart, type AnalyticsQuery } from './analytics-requests';
import type { AnalyticsSummary } from './analytics-views';

export const MAX_SAMPLED_RUNS = 10_000;

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

@Injectable()
export class AnalyticsService {
  constructor(@Inject(TEMPORAL_CLIENT) private readonly client: Client) {}

  async summary(query: AnalyticsQuery, now = new Date()): Promise<AnalyticsSummary> {
    const since = windowStart(query.since, now);
    const base = `${buildRunsQuery({ spec: query.spec })} AND StartTime >= "${since.toISOString()}"`;
    const counts = await Promise.all(
      VISIBILITY_STATUSES.map(async (status) => {
        const { count } = await this.client.workflow.count(`${base} AND ExecutionStatus = "${status}"`);
        return [RUN_STATUS_OF_VISIBILITY[status] as keyof AnalyticsSummary['runs'], count] as const;
      }),
    );
    const runs = Object.fromEntries(counts) as Omit<AnalyticsSummary['runs'], 'total'>;
    const total = counts.reduce((sum, [, n]) => sum + n, 0);

    const durations: number[] = [];
    let cost = 0;
    let sampled = 0;
    let truncated = false;
    for await (const run of this.client.workflow.list({ query: base })) {
      if (sampled === MAX_SAMPLED_RUNS) {
        truncated = true;
        break;
      }
      sampled++;
      cost += run.typedSearchAttributes.get(COST_USD_ATTRIBUTE) ?? 0;
      if (run.closeTime && run.status.name !== 'CONTINUED_AS_NEW' && run.status.name !== 'RUNNING') {
        durations.push(run.closeTime.getTime() - run.startTime.getTime());
      }
    }
    durations.sort((a, b) => a - b);
    const ended = total - runs.running - runs.continued_as_new;
    return {
      since: since.toISOString(),
      spec: query.spec ?? null,
      runs: { total, ...runs },
      successRate: ended > 0 ? runs.completed / ended : null,
      durationMs:
        durations.length > 0
          ? { mean: durations.reduce((a, b) => a + b, 0) / durations.length, p95: percentile(durations, 95) }
          : null,
      costUsd: { total: cost, meanPerRun: sampled > 0 ? cost / sampled : null },
      sampled,
      truncated,
    };
  }
}
