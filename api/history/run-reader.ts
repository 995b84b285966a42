/**
 * Reads what a spec run recorded, execution by execution: its continue-as-new chain, the input
 * its first execution started with, its progress and its step records. Progress and records come
 * from the result once completed, else from the history; a worker is asked (the progress query,
 * answered by replaying the execution) only for a running run's live progress when the caller
 * wants it, and for the outputs of a run that did not complete (they live only in its replay).
 */
import { codecsOf, decryptPayloadsInPlace } from '../../temporal/codec/data-converter';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TemporalConfig } from '../../temporal/config';
import { fetchHistory, type History } from '../../temporal/replay/history';
import {
  progressQuery,
  RUN_SPEC_WORKFLOW,
  type RunInput,
  type RunProgress,
  type RunResult,
  type StepRecord,
} from '../../workflows/contracts/run';
import { describeTemporalError } from '../temporal/temporal-errors';
import { progressFromHistory, progressFromResult, type ProgressSource, type ProgressView } from './history-progress';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Outputs of a run that did not complete: a worker replays the whole execution to answer; long histories take a while. */
const OUTPUTS_QUERY_TIMEOUT_MS = 15_000;
/** Live progress is a refinement of the history's: not worth waiting for behind a busy worker. */
export const LIVE_PROGRESS_TIMEOUT_MS = 500;

export interface ProgressAnswer {
  progress?: RunProgress | ProgressView;
  progressSource?: ProgressSource;
  /** Why the live progress was not used (or why there is none). */
  progressError?: string;
}

/** Executions that may still change (and so be asked); every other status is final. */
const OPEN_STATUSES = new Set(['RUNNING', 'PAUSED']);
/** A chain longer than this is cut (its oldest executions are not read). */
const MAX_CHAIN = 500;

export interface StepRecords {
  records?: Record<string, StepRecord>;
  /** Why no records could be read (no worker answered the query). */
  error?: string;
}

export class RunReader {
  constructor(
    private readonly client: Client,
    private readonly config: TemporalConfig,
  ) {}

  /** A payload as the client reads it; undefined when it cannot be read. */
  readonly decode = (payload: Payload | null | undefined): unknown => {
    if (!payload) return undefined;
    try {
      return this.client.options.loadedDataConverter.payloadConverter.fromPayload<unknown>(payload);
    } catch {
      return undefined;
    }
  };

  describe(workflowId: string, runId?: string): Promise<WorkflowExecutionDescription> {
    return this.client.workflow.getHandle(workflowId, runId).describe();
  }

  history(workflowId: string, runId: string): Promise<History> {
    return fetchHistory(this.client, workflowId, runId);
  }

  /**
   * Whether `history` (of the id's latest run, fetched beside a describe) is that of execution
   * `runId`: its start event names the run id it was written for. A run that continued as new or
   * was reset between the two calls, or a reset run (whose start event is its original's), fails
   * the check, and the caller reads by run id.
   */
  isHistoryOf(history: History, runId: string): boolean {
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    return !!started && started.originalExecutionRunId === runId;
  }

  /** The execution's WorkflowExecutionStarted event, without reading the rest of its history. */
  async firstEvent(workflowId: string, runId: string): Promise<HistoryEvent> {
    const page = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.config.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
    });
    const first = decryptPayloadsInPlace(page.history?.events?.[0], codecsOf(this.client));
    if (!first?.workflowExecutionStartedEventAttributes) {
      throw new Error(`run ${workflowId} (${runId}) has no start event`);
    }
    return first;
  }

  /** Run ids of the continue-as-new chain that ends with `runId`, first execution first. */
  async chain(workflowId: string, runId: string): Promise<string[]> {
    const runs = [runId];
    for (let current = runId; runs.length < MAX_CHAIN;) {
      const started = (await this.firstEvent(workflowId, current)).workflowExecutionStartedEventAttributes;
      const previous = started?.continuedExecutionRunId;
      if (!previous || runs.includes(previous)) break;
      runs.unshift(previous);
      current = previous;
    }
    return runs;
  }

  /** The RunInput an execution started with (the spec, inputs and options of the run). */
  inputOf(first: HistoryEvent): RunInput | undefined {
    const input = this.decode(first.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
    return input && typeof input === 'object' ? (input as RunInput) : undefined;
  }

  /**
   * The progress of the execution `description` names, without waiting on a worker: a completed
   * run's from its result, any other's from its history. `live`: a running run's progress query
   * first, answered within LIVE_PROGRESS_TIMEOUT_MS or replaced by the history's (closed runs
   * are never asked: their history is final). `result`: the completed run's, when already read;
   * `history`: this execution's, when already read.
   */
  async progress(
    description: WorkflowExecutionDescription,
    opts: { live?: boolean; result?: Promise<RunResult>; history?: History } = {},
  ): Promise<ProgressAnswer> {
    const { workflowId, runId } = description;
    if (description.type !== RUN_SPEC_WORKFLOW) {
      return { progressError: `a ${description.type} workflow, not a spec run: it has no step progress` };
    }
    const handle = this.client.workflow.getHandle(workflowId, runId, { followRuns: false });
    const status = description.status.name;
    if (status === 'COMPLETED') {
      const [result, first] = await Promise.all([
        opts.result ?? (handle.result() as Promise<RunResult>),
        opts.history?.events?.[0] ?? this.firstEvent(workflowId, runId),
      ]);
      if (result?.steps) return { progress: progressFromResult(result, this.inputOf(first)), progressSource: 'result' };
    }
    let progressError: string | undefined;
    if (opts.live && OPEN_STATUSES.has(status)) {
      try {
        const progress = await this.client.connection.withDeadline(Date.now() + LIVE_PROGRESS_TIMEOUT_MS, () =>
          handle.query(progressQuery),
        );
        return { progress, progressSource: 'live' };
      } catch (err) {
        progressError = `progress query not answered, progress is the history's: ${describeTemporalError(err)}`;
      }
    }
    const history = opts.history ?? (await this.history(workflowId, runId));
    return {
      progress: progressFromHistory(workflowId, history, this.decode),
      progressSource: 'history',
      ...(progressError !== undefined && { progressError }),
    };
  }

  /**
   * The step records of one execution without asking a worker: a completed one's result's, else
   * folded from its `history` (statuses, times and errors; outputs only where carried in); none
   * for a workflow that is not a spec run.
   */
  async stepRecords(
    description: WorkflowExecutionDescription,
    history: History,
  ): Promise<Record<string, StepRecord> | undefined> {
    if (description.type !== RUN_SPEC_WORKFLOW) return undefined;
    if (description.status.name === 'COMPLETED') {
      const handle = this.client.workflow.getHandle(description.workflowId, description.runId, { followRuns: false });
      const result = (await handle.result()) as RunResult | undefined;
      if (result?.steps) return result.steps;
    }
    return progressFromHistory(description.workflowId, history, this.decode).steps;
  }

  /**
   * The step records of one execution with their outputs (what a rerun hands on): the result's
   * once completed; else only a worker's replay has them, so the progress query is asked.
   */
  async recordsWithOutputs(workflowId: string, description: WorkflowExecutionDescription): Promise<StepRecords> {
    const handle = this.client.workflow.getHandle(workflowId, description.runId, { followRuns: false });
    try {
      if (description.status.name === 'COMPLETED') {
        const result = (await handle.result()) as RunResult | undefined;
        if (result?.steps) return { records: result.steps };
      }
      const progress = await this.client.connection.withDeadline(Date.now() + OUTPUTS_QUERY_TIMEOUT_MS, () =>
        handle.query(progressQuery),
      );
      return { records: progress.steps };
    } catch (err) {
      return {
        error: `run ${description.runId}: no worker answered the progress query (${describeTemporalError(err)})`,
      };
    }
  }
}
