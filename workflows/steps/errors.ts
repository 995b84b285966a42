import { ApplicationFailure, TemporalFailure } from '@temporalio/workflow';
import { ConditionError } from '../spec/condition';
import { ExpressionError } from '../spec/expressions';

/** The most useful message of a failure chain: the innermost cause's, else the error's own. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApplicationFailure && err.type === 'StepFailed') return err.message;
  let current: unknown = err;
  while (current instanceof TemporalFailure && current.cause) current = current.cause;
  if (current instanceof Error) return current.message;
  return String(current);
}

/** Where spec data was being read: a step (by path) or the run's `output` mapping. */
export type DataSite = { stepPath: string } | { output: true };

/**
 * Errors caused by spec data (an expression, a condition's operands) as the typed, non-retryable
 * failure they must fail a step or run with: a plain Error would fail the workflow task instead,
 * and Temporal would retry that task forever. Anything else is returned unchanged.
 */
export function specDataFailure(err: unknown, site: DataSite): unknown {
  if (err instanceof ExpressionError) {
    const where =
      'stepPath' in site
        ? `step "${site.stepPath}"`
        : err.field
          ? `output${err.field.startsWith('[') ? '' : '.'}${err.field}`
          : 'output';
    return ApplicationFailure.create({
      type: 'ExpressionError',
      message: err.at(where),
      nonRetryable: true,
      details: [{ ...('stepPath' in site ? { stepId: site.stepPath } : { field: where }), expression: err.expression }],
    });
  }
  if (err instanceof ConditionError && 'stepPath' in site) {
    return ApplicationFailure.create({
      type: 'ConditionError',
      message: `condition in step "${site.stepPath}": ${err.message}`,
      nonRetryable: true,
      details: [{ stepId: site.stepPath }],
    });
  }
  return err;
}
