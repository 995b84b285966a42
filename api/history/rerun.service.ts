import { randomUUID, createHash } from 'node:crypto';
import { ConflictException, Inject, Injectable } from '@nestjs/common';
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { runUrl, type TemporalConfig } from '../../temporal/config';
import { bareRecord, needsAfter } from '../../workflows/carry';
import { RERUN_OF_ATTRIBUTE, RUN_SPEC_WORKFLOW, type RunInput, type StepRecord } from '../../workflows/contracts/run';
import { validateInputs, validateSpec } from '../../workflows/spec/validate';
import { describeTemporalError, temporalErrorToHttp } from '../temporal/temporal-errors';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { canonicalJson } from '../util/canonical-json';
import { RequestValidationError } from '../validation/request-validation.error';
import { REQUEST_HASH_MEMO, runWorkflowId } from '../workflows/run-identity';
import { startSpecRun } from '../workflows/start-spec-run';
import type { WebhookStore } from '../webhooks/webhook-store';
import { WEBHOOK_STORE } from '../webhooks/webhook-tokens';
import { runStatusOf } from '../workflows/run-status';
import { requirePossibleId } from './history.service';
import type { RerunBody, RetryBody } from './history-requests';
import type { RerunLink, RerunResponse } from './history-views';
import { ClosedRunViews } from './closed-run-views';
import { RERUN_OF_MEMO } from './run-links';
import { RunReader } from './run-reader';
import { allSteps } from './spec-steps';

/** Statuses a run can be retried from: it ended without completing. */
const RETRYABLE = new Set(['failed', 'cancelled', 'terminated', 'timed_out']);

const fromStepIssue = (message: string) => new RequestValidationError([{ path: 'fromStep', message }]);

/**
 * Starts a new run that repeats an old one: a rerun from a step (the steps before it are not
 * executed again; their recorded outputs are handed to the new run as the interpreter's resume
 * state, as continue-as-new hands them on) or a retry of the whole run as it was. The new run
 * names the old one in its memo and the AgentRerunOf search attribute; GET /workflows/:id of
 * the old one lists it through that attribute (run-links.ts).
 */
@Injectable()
export class RerunService {
  private readonly reader: RunReader;

  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
    @Inject(WEBHOOK_STORE) private readonly webhooks: WebhookStore,
    @Inject(ClosedRunViews) private readonly closedRuns: ClosedRunViews,
  ) {
    this.reader = new RunReader(client, config);
  }

  async rerun(workflowId: string, body: RerunBody): Promise<RerunResponse> {
    const { last, runs, input } = await this.closedSpecRun(workflowId, 'rerun');
    const steps = input.spec.steps;
    const ids = steps.map((s) => s.id);
    const from = ids.indexOf(body.fromStep);
    if (from < 0) {
      throw fromStepIssue(
        `"${body.fromStep}" is not a top-level step of spec "${input.spec.name}"; its steps: ${ids.join(', ')}`,
      );
    }
    // What to hand on: the records of the steps before fromStep (nested ones included), with the
    // outputs that fromStep and the steps after it (or the run's output) can read.
    const again = new Set(allSteps(steps.slice(from)).map((s) => s.id));
    const needed = needsAfter(input.spec, from).outputs;
    const records = await this.recordedSteps(workflowId, runs, last, needed, again);
    const rerunnable = this.checkStepsBefore(input, from, records, workflowId);
    const carried: Record<string, StepRecord> = {};
    for (const [path, rec] of Object.entries(records)) {
      if (path.includes('[') || again.has(path)) continue;
      const keep = needed.has(path) && rec.status === 'completed';
      if (keep && !('output' in rec) && !rec.outputRef) {
        throw new ConflictException(
          `run "${workflowId}" no longer holds the output of step "${path}", which step "${body.fromStep}" or a ` +
            `later one reads; rerun from an earlier step (${rerunnable.join(', ')})`,
        );
      }
      carried[path] = keep ? rec : bareRecord(rec);
    }
    const link: RerunLink = { workflowId, runId: last.runId, kind: 'rerun', fromStep: body.fromStep };
    const next: RunInput = { ...withoutResume(input), resume: { nextStep: from, steps: carried, generation: 0 } };
    return this.startRepeat(next, link, body.runId, ids.slice(0, from));
  }

  async retry(workflowId: string, body: RetryBody): Promise<RerunResponse> {
    const { last, input } = await this.closedSpecRun(workflowId, 'retry');
    const status = runStatusOf(last.status.name);
    if (!RETRYABLE.has(status)) {
      throw new ConflictException(
        `run "${workflowId}" is ${status}: only a run that failed, was cancelled, terminated or timed out is ` +
          'retried (POST /workflows/:id/rerun repeats a run from a step)',
      );
    }
    const link: RerunLink = { workflowId, runId: last.runId, kind: 'retry', fromStep: null };
    // As it was: the same input, a rerun's carried steps included.
    const reused = Object.keys(input.resume?.steps ?? {}).filter((p) => !p.includes('['));
    return this.startRepeat(input, link, body?.runId, reused);
  }

  /** The latest run of `workflowId`, its chain and first input; 409 unless a closed spec run. */
  private async closedSpecRun(workflowId: string, what: 'rerun' | 'retry') {
    requirePossibleId(workflowId);
    const last = await this.reader.describe(workflowId);
    const status = runStatusOf(last.status.name);
    if (status === 'running' || status === 'paused') {
      throw new ConflictException(
        `run "${workflowId}" is ${status}: cancel or terminate it first, or wait for it to end, then ${what} it`,
      );
    }
    if (last.type !== RUN_SPEC_WORKFLOW) {
      throw new ConflictException(`run "${workflowId}" is a ${last.type} workflow: only spec runs are ${what} here`);
    }
    const runs = await this.reader.chain(workflowId, last.runId);
    const input = this.reader.inputOf(await this.reader.firstEvent(workflowId, runs[0] as string));
    if (!input?.spec || !Array.isArray(input.spec.steps)) {
      throw new ConflictException(`run "${workflowId}" did not start with a spec run's input`);
    }
    if (input.fragment) {
      throw new ConflictException(
        `run "${workflowId}" runs part of a fan-out for its parent run: ${what} the parent instead`,
      );
    }
    return { last, runs, input };
  }

  /**
   * The step records of the chain: the latest execution's first, then earlier ones' for outputs
   * it no longer carries (continue-as-new hands on only what later steps read).
   */
  private async recordedSteps(
    workflowId: string,
    runs: string[],
    last: WorkflowExecutionDescription,
    needed: ReadonlySet<string>,
    again: ReadonlySet<string>,
  ): Promise<Record<string, StepRecord>> {
    const merged: Record<string, StepRecord> = {};
    const missing = () =>
      [...needed].filter((id) => !again.has(id) && merged[id]?.status === 'completed' && !hasOutput(merged[id]));
    for (const runId of [...runs].reverse()) {
      const description = runId === last.runId ? last : await this.reader.describe(workflowId, runId);
      const { records, error } = await this.reader.recordsWithOutputs(workflowId, description);
      if (!records) {
        throw new ConflictException(
          `the recorded outputs of run "${workflowId}" could not be read: ${error} (start a worker and try again)`,
        );
      }
      for (const [path, rec] of Object.entries(records)) {
        const known = merged[path];
        if (!known || (!hasOutput(known) && hasOutput(rec))) merged[path] = rec;
      }
      if (missing().length === 0) break;
    }
    return merged;
  }

  /** Every top-level step before `from` completed (or was skipped); returns the steps a rerun may start at. */
  private checkStepsBefore(
    input: RunInput,
    from: number,
    records: Record<string, StepRecord>,
    workflowId: string,
  ): string[] {
    const ids = input.spec.steps.map((s) => s.id);
    const firstOpen = ids.findIndex((id) => !['completed', 'skipped'].includes(records[id]?.status ?? ''));
    const rerunnable = ids.slice(0, firstOpen < 0 ? ids.length : firstOpen + 1);
    if (firstOpen >= 0 && firstOpen < from) {
      const id = ids[firstOpen] as string;
      const state = records[id] ? `was ${records[id].status}` : 'never ran';
      throw fromStepIssue(
        `step "${id}" before "${ids[from]}" ${state} in run "${workflowId}", so there is no output to reuse; ` +
          `rerun it from one of: ${rerunnable.join(', ')}`,
      );
    }
    return rerunnable;
  }

  private async startRepeat(
    input: RunInput,
    link: RerunLink,
    clientRunId: string | undefined,
    reusedSteps: string[],
  ): Promise<RerunResponse> {
    const { spec } = input;
    // The interpreter checks the spec and inputs again at start: a run today's rules refuse is a conflict, said now.
    const checked = validateSpec(spec);
    const inputs = checked.ok ? validateInputs(checked.spec, input.inputs ?? {}) : undefined;
    const issues = !checked.ok ? checked.issues : inputs && !inputs.ok ? inputs.issues : [];
    if (issues.length > 0) {
      const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      throw new ConflictException(`run "${link.workflowId}" cannot start again: today's checks refuse it (${list})`);
    }
    const workflowId = runWorkflowId(spec.name, clientRunId ?? randomUUID());
    const requestHash = createHash('sha256')
      .update(canonicalJson({ repeats: link.workflowId, runId: link.runId, kind: link.kind, fromStep: link.fromStep }))
      .digest('hex');
    const how =
      link.kind === 'rerun' ? `Rerun of ${link.workflowId} from ${link.fromStep}` : `Retry of ${link.workflowId}`;
    try {
      const handle = await startSpecRun(this.client, this.config.taskQueue, {
        workflowId,
        input,
        requestHash,
        summary: how,
        webhooks: await this.webhooks.targetsFor(spec.name),
        memo: { [RERUN_OF_MEMO]: link },
        searchAttributes: [{ key: RERUN_OF_ATTRIBUTE, value: link.workflowId }],
      });
      // GET of the old run lists its reruns: an answer kept from before would not show this one.
      this.closedRuns.forget(link.workflowId);
      const runId = handle.firstExecutionRunId;
      return {
        workflowId,
        runId,
        created: true,
        webUiUrl: runUrl(this.config, workflowId, runId),
        rerunOf: link,
        reusedSteps,
      };
    } catch (err) {
      if (temporalErrorToHttp(err)?.statusCode === 400) {
        const bytes = Buffer.byteLength(JSON.stringify(input));
        throw new ConflictException(
          `Temporal refused to start the ${link.kind} (${bytes} bytes of spec, inputs and reused outputs): ` +
            `${describeTemporalError(err)}`,
        );
      }
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || clientRunId === undefined) throw err;
      const existing = await this.client.workflow.getHandle(workflowId).describe();
      if (existing.memo?.[REQUEST_HASH_MEMO] !== requestHash) {
        throw new ConflictException(
          `runId "${clientRunId}" is taken by run "${workflowId}", which a different request started; use a new runId`,
        );
      }
      return {
        workflowId,
        runId: existing.runId,
        created: false,
        webUiUrl: runUrl(this.config, workflowId, existing.runId),
        rerunOf: link,
        reusedSteps,
      };
    }
  }
}

function hasOutput(rec: StepRecord | undefined): boolean {
  return rec !== undefined && ('output' in rec || rec.outputRef !== undefined);
}

function withoutResume(input: RunInput): RunInput {
  const rest = { ...input };
  delete rest.resume;
  return rest;
}
