import { z } from 'zod';

/** Run statuses as the API reports them (Temporal's names in lower snake case). */
export const RUN_STATUSES = [
  'running',
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'continued_as_new',
  'timed_out',
  'paused',
  'unknown',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const runStatusSchema = z.enum(RUN_STATUSES);

/** `RUNNING`, `WORKFLOW_EXECUTION_STATUS_TIMED_OUT` → `running`, `timed_out`. */
export function runStatusOf(temporalName: string | undefined): RunStatus {
  const name = (temporalName ?? '').replace(/^WORKFLOW_EXECUTION_STATUS_/, '').toLowerCase();
  return (RUN_STATUSES as readonly string[]).includes(name) ? (name as RunStatus) : 'unknown';
}

/** The `ExecutionStatus` values of Temporal's visibility queries. */
export const VISIBILITY_STATUSES = [
  'Running',
  'Completed',
  'Failed',
  'Canceled',
  'Terminated',
  'TimedOut',
  'ContinuedAsNew',
] as const;
export type VisibilityStatus = (typeof VISIBILITY_STATUSES)[number];

/** The API's own names are accepted as filters too, so a status read from a response can be fed back. */
export const VISIBILITY_STATUS_ALIASES: Record<string, VisibilityStatus> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
  continued_as_new: 'ContinuedAsNew',
};

/** A visibility status in the API's own names: `Canceled` → `cancelled`, `TimedOut` → `timed_out`. */
export const RUN_STATUS_OF_VISIBILITY = Object.fromEntries(
  Object.entries(VISIBILITY_STATUS_ALIASES).map(([api, visibility]) => [visibility, api as RunStatus]),
) as Record<VisibilityStatus, RunStatus>;
