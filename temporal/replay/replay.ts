/**
 * Replays one run's history against workflow code (by default this checkout's `workflows/`),
 * offline: no server, no activities. The answer is "deterministic", the first divergence in
 * words a user can act on, or the error today's code raises on this history.
 */
import { DeterminismViolationError } from '@temporalio/workflow';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFromEnv } from '../codec/data-converter';
import type { History } from './history';
import { explainDivergence, parseDivergence, type Divergence } from './divergence';
import { HistoryIndex } from './step-events';

/** The workflow bundle's entry the workers run. */
export const PROJECT_WORKFLOWS = require.resolve('../../workflows');

export type ReplayVerdict =
  | { outcome: 'deterministic'; workflowId: string; events: number; message: string }
  | { outcome: 'nondeterministic'; workflowId: string; events: number; message: string; divergence: Divergence }
  /** Replay stopped on an error that is not a divergence, e.g. today's code throws on this history. */
  | { outcome: 'failed'; workflowId: string; events: number; message: string; error: string };

const noop = (): void => undefined;
const silent = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

let runtimeInstalled = false;
/**
 * Core logs every failed replay task as a warning; the verdict says it better. Must run before
 * any worker in the process; a runtime someone installed earlier is kept.
 */
export function quietReplayRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // Already installed in this process.
  }
}

/** Bundles `workflowsPath` (a module exporting workflow functions) as the workers would. */
export function bundleWorkflows(workflowsPath: string = PROJECT_WORKFLOWS): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: silent });
}

/**
 * Replays `history` as run `workflowId` (histories do not hold their workflow id, and child run
 * ids derive from it) against `bundle`.
 */
export async function replayHistory(
  history: History,
  workflowId: string,
  bundle: WorkflowBundleWithSourceMap,
  /** The codecs the run was recorded with (encrypted payloads); default: this process's PAYLOAD_ENCRYPTION_KEYS. */
  dataConverter: DataConverter | undefined = dataConverterFromEnv(),
): Promise<ReplayVerdict> {
  quietReplayRuntime();
  const events = history.events?.length ?? 0;
  try {
    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, history, workflowId);
    return {
      outcome: 'deterministic',
      workflowId,
      events,
      message: `today's code replays all ${events} events of this history exactly as recorded.`,
    };
  } catch (err) {
    if (err instanceof DeterminismViolationError) {
      const divergence = parseDivergence(err.message, new HistoryIndex(history, workflowId));
      return { outcome: 'nondeterministic', workflowId, events, message: explainDivergence(divergence), divergence };
    }
    const error = err instanceof Error ? err.message : String(err);
    return {
      outcome: 'failed',
      workflowId,
      events,
      message:
        `Replay stopped on an error that is not a divergence: ${error}. Today's code fails this run's ` +
        'workflow tasks; fix the code (a plain Error thrown in workflow code is a bug) and replay again.',
      error,
    };
  }
}
