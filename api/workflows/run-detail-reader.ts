/**
 * GET /workflows/:id: a run as Temporal describes it, with its progress read without waiting on
 * a worker (RunReader.progress). What one read costs, and why:
 * - describe and the latest execution's history in parallel (one round trip; the history is used
 *   once its start event shows it is the described execution's, else read again by run id);
 * - a closed run also lists its reruns (a visibility query; only closed runs can be rerun) and
 *   reads its result or failure; its answer is then kept (ClosedRunViews): served again without
 *   a Temporal call while fresh, then confirmed by a describe and the reruns listing;
 * - concurrent reads of one run share one read (ReadCoalescer), never one begun before them.
 * `live` asks a running run's worker first, briefly; such reads are not shared.
 */
import {
  ApplicationFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { runUrl, type TemporalConfig } from '../../temporal/config';
import { fetchHistory, type History } from '../../temporal/replay/history';
import { SPEC_NAME_ATTRIBUTE, type RunResult } from '../../workflows/contracts/run';
import type { runSpec } from '../../workflows/interpreter';
import type { ClosedRunViews, ClosedView } from '../history/closed-run-views';
import { ReadCoalescer } from '../history/read-coalescer';
import { rerunOfLink, rerunsOf } from '../history/run-links';
import type { RunReader } from '../history/run-reader';
import { runStatusOf, type RunStatus } from './run-status';
import type { RunDetail, RunSummary } from './run-views';

type RunHandle = WorkflowHandle<typeof runSpec>;

/** Statuses an execution never leaves: its answer can be kept. */
const FINAL: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled', 'terminated', 'timed_out']);

export class RunDetailReader {
  private readonly reads = new ReadCoalescer<RunDetail>();

  constructor(
    private readonly client: Client,
    private readonly config: TemporalConfig,
    private readonly reader: RunReader,
    private readonly closed: ClosedRunViews,
  ) {}

  async detail(workflowId: string, opts: { live?: boolean } = {}): Promise<RunDetail> {
    // A closed run is never asked live: its kept answer serves `live` too.
    const kept = this.closed.get(workflowId);
    if (kept?.fresh) return kept.view;
    if (opts.live) return this.read(workflowId, true);
    return this.reads.read(workflowId, () => this.read(workflowId, false));
  }

  private async read(workflowId: string, live: boolean): Promise<RunDetail> {
    const kept = this.closed.get(workflowId);
    if (kept?.fresh) return kept.view;
    if (kept) {
      const confirmed = await this.confirm(workflowId, kept);
      if (confirmed) return confirmed;
    }
    const latest = this.client.workflow.getHandle(workflowId);
    // The history beside the describe, unless a worker is to be asked first (it may not be needed).
    const [described, fetched] = await Promise.allSettled([
      latest.describe(),
      live ? undefined : fetchHistory(this.client, workflowId),
    ]);
    if (described.status === 'rejected') throw described.reason;
    const description = described.value;
    const history =
      fetched.status === 'fulfilled' && fetched.value && this.reader.isHistoryOf(fetched.value, description.runId)
        ? fetched.value
        : undefined;
    return this.build(description, live, history);
  }

  private async build(
    description: WorkflowExecutionDescription,
    live: boolean,
    history: History | undefined,
  ): Promise<RunDetail> {
    const { workflowId, runId } = description;
    const handle = this.client.workflow.getHandle<typeof runSpec>(workflowId, runId);
    const status = runStatusOf(description.status.name);
    const final = FINAL.has(status);
    const detail: RunDetail = {
      ...this.summaryOf(description, status),
      specVersion: typeof description.memo?.specVersion === 'number' ? description.memo.specVersion : null,
      historyLength: description.historyLength,
      ...(description.memo?.usage !== undefined && { usage: description.memo.usage }),
    };
    const result: Promise<RunResult> | undefined = status === 'completed' ? handle.result() : undefined;
    const closedOtherwise = status !== 'completed' && status !== 'running' && status !== 'paused';
    const [progress, reruns, output, failure] = await Promise.all([
      this.reader.progress(description, { live, result, history }),
      final ? rerunsOf(this.client, this.config, workflowId) : undefined,
      result,
      closedOtherwise ? this.failureOf(handle) : undefined,
    ]);
    Object.assign(detail, progress, rerunOfLink(description), reruns);
    if (status === 'completed') detail.result = output;
    if (failure) detail.failure = failure;
    if (final && reruns?.rerunsError === undefined && progress.progressError === undefined) {
      this.closed.set(workflowId, runId, detail);
    }
    return detail;
  }

  /** A kept answer again, if the id's latest run is still the one it describes (with today's reruns). */
  private async confirm(workflowId: string, kept: ClosedView<RunDetail>): Promise<RunDetail | undefined> {
    let description: WorkflowExecutionDescription;
    let reruns: Awaited<ReturnType<typeof rerunsOf>>;
    try {
      [description, reruns] = await Promise.all([
        this.client.workflow.getHandle(workflowId).describe(),
        rerunsOf(this.client, this.config, workflowId),
      ]);
    } catch (err) {
      this.closed.forget(workflowId);
      throw err;
    }
    if (description.runId !== kept.runId || reruns.rerunsError !== undefined) {
      this.closed.forget(workflowId);
      return undefined;
    }
    const view: RunDetail = { ...kept.view, reruns: reruns.reruns };
    this.closed.set(workflowId, kept.runId, view);
    return view;
  }

  private summaryOf(d: WorkflowExecutionDescription, status: RunStatus): RunSummary {
    const memoSpec = d.memo?.spec;
    return {
      workflowId: d.workflowId,
      runId: d.runId,
      spec: typeof memoSpec === 'string' ? memoSpec : (d.typedSearchAttributes.get(SPEC_NAME_ATTRIBUTE) ?? null),
      status,
      startTime: d.startTime.toISOString(),
      closeTime: d.closeTime?.toISOString() ?? null,
      webUiUrl: runUrl(this.config, d.workflowId, d.runId),
    };
  }

  private async failureOf(handle: RunHandle): Promise<RunDetail['failure']> {
    try {
      await handle.result();
      return undefined;
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = err.cause;
      const type =
        cause instanceof ApplicationFailure ? (cause.type ?? 'ApplicationFailure') : (cause?.name ?? 'Error');
      return { type, message: cause?.message ?? err.message };
    }
  }
}
