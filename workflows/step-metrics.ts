import { inWorkflowContext, metricMeter } from '@temporalio/workflow';
import { STEP_DURATION_METRIC } from './contracts/metrics';
import type { StepRecord } from './contracts/run';

/**
 * Records a finished step's duration by kind and status. The workflow meter issues no command
 * and records nothing while a run replays, so history is unchanged and no step is counted twice.
 */
export function recordStepDuration(record: StepRecord): void {
  if (!inWorkflowContext() || record.finishedAt === undefined) return;
  const seconds = Math.max(0, (Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 1000);
  metricMeter
    .createHistogram(STEP_DURATION_METRIC, 'float', 's', 'Time from a step start to its end, by kind and status')
    .record(seconds, { kind: record.kind, status: record.status });
}
