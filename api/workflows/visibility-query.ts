import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE } from '../../workflows/contracts/run';
import type { VisibilityStatus } from './run-status';

export interface RunFilter {
  status?: VisibilityStatus;
  spec?: string;
}

/**
 * A visibility string literal. Values reaching here are already validated (spec names allow no
 * quotes), so the escaping is a second line of defence, not the only one.
 */
export function quoteVisibilityValue(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The list query for spec runs, built only from validated filter values. */
export function buildRunsQuery(filter: RunFilter): string {
  const clauses = [`WorkflowType = ${quoteVisibilityValue(RUN_SPEC_WORKFLOW)}`];
  if (filter.status) clauses.push(`ExecutionStatus = ${quoteVisibilityValue(filter.status)}`);
  if (filter.spec) clauses.push(`${SPEC_NAME_ATTRIBUTE.name} = ${quoteVisibilityValue(filter.spec)}`);
  return clauses.join(' AND ');
}
