import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable } from '@nestjs/common';
import {
  ApplicationFailure,
  defaultPayloadConverter,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { google, temporal } from '@temporalio/proto';
import { runUrl, type TemporalConfig } from '../../temporal/config';
import type { runSpec } from '../../workflows/interpreter';
import {
  approveUpdate,
  progressQuery,
  RUN_SPEC_WORKFLOW,
  SPEC_NAME_ATTRIBUTE,
  type RunInput,
  type Spec,
} from '../../workflows/shared';
import { resolveChildSpecs, validateInputs, validateSpec } from '../../workflows/spec/validate';
import type { SpecStore } from '../specs/spec-store';
import { describeTemporalError } from '../temporal/temporal-errors';
import { SPEC_STORE, TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { RequestValidationError } from '../validation/request-validation.error';
import type { ApprovalBody, ListRunsQuery, StartRunBody, StopRunBody } from './run-requests';
import { runStatusOf, type RunStatus } from './run-status';
import type {
  ApprovalResponse,
  ListRunsResponse,
  RunDetail,
  RunSummary,
  StartRunResponse,
  StopRunResponse,
} from './run-views';
import { buildRunsQuery } from './visibility-query';

type RunHandle = WorkflowHandle<typeof runSpec>;

/** How long a describe waits for a worker to answer the progress query before reporting without it. */
const PROGRESS_QUERY_TIMEOUT_MS = 3000;
/** An approval waits for the worker to accept it; past this the client gets 504, the run is unaffected. */
const APPROVAL_TIMEOUT_MS = 30_000;
const DEFAULT_PAGE_SIZE = 50;

function isoOf(ts: google.protobuf.ITimestamp | null | undefined): string | null {
  if (!ts?.seconds) return null;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

function specNameOf(indexedFields: Record<string, Payload> | null | undefined): string | null {
  const payload = indexedFields?.[SPEC_NAME_ATTRIBUTE.name];
  if (!payload) return null;
  try {
    const value = defaultPayloadConverter.fromPayload<unknown>(payload);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

@Injectable()
export class WorkflowsService {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
    @Inject(SPEC_STORE) private readonly store: SpecStore,
  ) {}

  /**
   * Starts a run, or finds the one a previous request with the same runId started. The start
   * uses conflict policy FAIL and reuse policy REJECT_DUPLICATE instead of USE_EXISTING: the
   * 1.24 client does not say whether USE_EXISTING started anything, while FAIL answers
   * "already exists" exactly when it did not, running or closed.
   */
  async start(body: StartRunBody): Promise<StartRunResponse> {
    const spec = await this.specFor(body);
    const inputs = validateInputs(spec, body.inputs);
    if (!inputs.ok) throw new RequestValidationError(inputs.issues);
    const children = await resolveChildSpecs(spec, async (name) => (await this.store.get(name))?.spec);
    if (!children.ok) {
      const at = body.specName === undefined ? 'spec' : 'specName';
      throw new RequestValidationError(children.issues.map((i) => ({ ...i, path: i.path === 'spec' ? at : i.path })));
    }
    const workflowId = `${spec.name}-${body.runId ?? randomUUID()}`;
    const input: RunInput = { spec, inputs: inputs.inputs, childSpecs: children.childSpecs, options: body.options };
    const version = spec.version === undefined ? '' : ` v${spec.version}`;
    try {
      const handle = await this.client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
        taskQueue: this.config.taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { spec: spec.name, ...(spec.version !== undefined && { specVersion: spec.version }) },
        typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }],
        staticSummary: `Spec ${spec.name}${version}`,
      });
      const runId = handle.firstExecutionRunId;
      return { workflowId, runId, created: true, webUiUrl: runUrl(this.config, workflowId, runId) };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || body.runId === undefined) throw err;
      const existing = await this.client.workflow.getHandle(workflowId).describe();
      return {
        workflowId,
        runId: existing.runId,
        created: false,
        webUiUrl: runUrl(this.config, workflowId, existing.runId),
      };
    }
  }

  /** One page of spec runs from Temporal visibility (eventually consistent: a new run shows up after a moment). */
  async list(query: ListRunsQuery): Promise<ListRunsResponse> {
    // The raw call, not client.workflow.list(): only it hands back the server's page token.
    const response = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.config.namespace,
      query: buildRunsQuery({ status: query.status, spec: query.spec }),
      pageSize: query.pageSize ?? DEFAULT_PAGE_SIZE,
      nextPageToken: query.nextPageToken === undefined ? undefined : Buffer.from(query.nextPageToken, 'base64url'),
    });
    const runs = (response.executions ?? []).map((e): RunSummary => {
      const workflowId = e.execution?.workflowId ?? '';
      const runId = e.execution?.runId ?? '';
      return {
        workflowId,
        runId,
        spec: specNameOf(e.searchAttributes?.indexedFields),
        status: runStatusOf(temporal.api.enums.v1.WorkflowExecutionStatus[e.status ?? 0]),
        startTime: isoOf(e.startTime),
        closeTime: isoOf(e.closeTime),
        webUiUrl: runUrl(this.config, workflowId, runId),
      };
    });
    const token = response.nextPageToken;
    return token?.length ? { runs, nextPageToken: Buffer.from(token).toString('base64url') } : { runs };
  }

  async describe(workflowId: string): Promise<RunDetail> {
    const description = await this.client.workflow.getHandle(workflowId).describe();
    const handle = this.client.workflow.getHandle<typeof runSpec>(workflowId, description.runId);
    const status = runStatusOf(description.status.name);
    const detail: RunDetail = {
      ...this.summaryOf(description, status),
      specVersion: typeof description.memo?.specVersion === 'number' ? description.memo.specVersion : null,
      historyLength: description.historyLength,
      ...(description.memo?.usage !== undefined && { usage: description.memo.usage }),
    };
    // Closed runs answer the query too while a worker can replay them; without one, report the rest.
    Object.assign(detail, await this.progressOf(handle));
    if (status === 'completed') detail.result = await handle.result();
    else if (status !== 'running' && status !== 'paused') {
      const failure = await this.failureOf(handle);
      if (failure) detail.failure = failure;
    }
    return detail;
  }

  async approve(workflowId: string, stepId: string, body: ApprovalBody): Promise<ApprovalResponse> {
    const handle = this.client.workflow.getHandle(workflowId);
    try {
      const result = await this.client.connection.withDeadline(Date.now() + APPROVAL_TIMEOUT_MS, () =>
        handle.executeUpdate(approveUpdate, { args: [{ stepId, ...body }] }),
      );
      return { workflowId, ...result };
    } catch (err) {
      // Temporal answers "not found" for a closed run too; that is a conflict, not a missing run.
      if (err instanceof WorkflowNotFoundError) await this.failIfClosed(workflowId, `no step is waiting for approval`);
      throw err;
    }
  }

  async cancel(workflowId: string, body: StopRunBody): Promise<StopRunResponse> {
    const runId = await this.requireRunning(workflowId, 'it cannot be cancelled');
    // The raw request, because handle.cancel() cannot carry a reason.
    await this.client.workflowService.requestCancelWorkflowExecution({
      namespace: this.config.namespace,
      workflowExecution: { workflowId },
      identity: this.client.options.identity,
      requestId: randomUUID(),
      reason: body?.reason ?? 'cancelled through the API',
    });
    return { workflowId, runId, status: 'cancel_requested', webUiUrl: runUrl(this.config, workflowId, runId) };
  }

  async terminate(workflowId: string, body: StopRunBody): Promise<StopRunResponse> {
    const runId = await this.requireRunning(workflowId, 'it cannot be terminated');
    await this.client.workflow.getHandle(workflowId).terminate(body?.reason ?? 'terminated through the API');
    return { workflowId, runId, status: 'terminated', webUiUrl: runUrl(this.config, workflowId, runId) };
  }

  private async specFor(body: StartRunBody): Promise<Spec> {
    if (body.specName === undefined) {
      const checked = validateSpec(body.spec, 'spec');
      if (!checked.ok) throw new RequestValidationError(checked.issues);
      return checked.spec;
    }
    const stored = await this.store.get(body.specName, body.specVersion);
    if (stored) return stored.spec;
    if (body.specVersion !== undefined && (await this.store.get(body.specName))) {
      throw new RequestValidationError([
        { path: 'specVersion', message: `spec "${body.specName}" has no version ${body.specVersion}` },
      ]);
    }
    throw new RequestValidationError([
      { path: 'specName', message: `spec "${body.specName}" is not registered (POST /specs first)` },
    ]);
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

  private async progressOf(handle: RunHandle): Promise<Pick<RunDetail, 'progress' | 'progressError'>> {
    try {
      const progress = await this.client.connection.withDeadline(Date.now() + PROGRESS_QUERY_TIMEOUT_MS, () =>
        handle.query(progressQuery),
      );
      return { progress };
    } catch (err) {
      return { progressError: `progress query not answered: ${describeTemporalError(err)}` };
    }
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

  /** The current run id, or 409 when the run has already closed. */
  private async requireRunning(workflowId: string, consequence: string): Promise<string> {
    const description = await this.client.workflow.getHandle(workflowId).describe();
    const status = runStatusOf(description.status.name);
    if (status !== 'running') throw new ConflictException(`run "${workflowId}" is ${status}: ${consequence}`);
    return description.runId;
  }

  private async failIfClosed(workflowId: string, consequence: string): Promise<void> {
    let description: WorkflowExecutionDescription;
    try {
      description = await this.client.workflow.getHandle(workflowId).describe();
    } catch {
      return; // the caller rethrows its own error
    }
    const status = runStatusOf(description.status.name);
    if (status !== 'running') throw new ConflictException(`run "${workflowId}" is ${status}: ${consequence}`);
  }
}
