/**
 * Reads what a spec run recorded, execution by execution: its continue-as-new chain, the input
 * its first execution started with, and its step records (from the result once completed, else
 * from the progress query, which a worker answers by replaying the execution).
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { TemporalConfig } from '../../temporal/config';
import { fetchHistory, type History } from '../../temporal/replay/history';
import { progressQuery, type RunInput, type RunResult, type StepRecord } from '../../workflows/contracts/run';
import { describeTemporalError } from '../temporal/temporal-errors';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A worker replays the whole execution to answer; long histories take a while. */
const PROGRESS_QUERY_TIMEOUT_MS = 15_000;
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

  describe(workflowId: string, runId?: string): Promise<WorkflowExecutionDescription> {
    return this.client.workflow.getHandle(workflowId, runId).describe();
  }

  history(workflowId: string, runId: string): Promise<History> {
    return fetchHistory(this.client, workflowId, runId);
  }

  /** The execution's WorkflowExecutionStarted event, without reading the rest of its history. */
  async firstEvent(workflowId: string, runId: string): Promise<HistoryEvent> {
    const page = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.config.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
    });
    const first = page.history?.events?.[0];
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
    const payload = first.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) return undefined;
    try {
      return this.client.options.loadedDataConverter.payloadConverter.fromPayload<RunInput>(payload);
    } catch {
      return undefined;
    }
  }

  /** The step records of one execution, keyed by step path. */
  async records(workflowId: string, description: WorkflowExecutionDescription): Promise<StepRecords> {
    const handle = this.client.workflow.getHandle(workflowId, description.runId, { followRuns: false });
    try {
      if (description.status.name === 'COMPLETED') {
        const result = (await handle.result()) as RunResult | undefined;
        if (result?.steps) return { records: result.steps };
      }
      const progress = await this.client.connection.withDeadline(Date.now() + PROGRESS_QUERY_TIMEOUT_MS, () =>
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
