import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  defaultPayloadConverter,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { google, temporal } from '@temporalio/proto';
import { runUrl, type TemporalConfig } from '../../temporal/config';
import type { LlmConfig } from '../../activities/llm/config/types';
import {
  approveUpdate,
  SPEC_NAME_ATTRIBUTE,
  type ApprovalInput,
  type ApprovalResult,
  type RunInput,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import type { DecisionChannel, Identity } from '../../workflows/contracts/identity';
import type { SpecLimits } from '../../workflows/spec/schema';
import { resolveChildSpecs, validateInputs } from '../../workflows/spec/validate';
import { ClosedRunViews } from '../history/closed-run-views';
import { RunReader } from '../history/run-reader';
import type { SpecStore } from '../specs/spec-store';
import { describeTemporalError, temporalErrorToHttp } from '../temporal/temporal-errors';
import { LLM_MODELS, SPEC_LIMITS, SPEC_STORE, TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { CheckedSpecs } from './checked-specs';
import { RunDetailReader } from './run-detail-reader';
import { modelIssues } from './model-check';
import { RequestValidationError } from '../validation/request-validation.error';
import { REQUEST_HASH_MEMO, runWorkflowId, startRequestHash } from './run-identity';
import { startSpecRun } from './start-spec-run';
import type { WebhookStore } from '../webhooks/webhook-store';
import { WEBHOOK_STORE } from '../webhooks/webhook-tokens';
import { completedUpdateResult } from './update-history';
import { deskDecision, isInputAnswer } from '../approvals/input-answers';
import type { DecisionBody, ListRunsQuery, StartRunBody, StopRunBody } from './run-requests';
import { runStatusOf } from './run-status';
import type {
  ApprovalResponse,
  ListRunsResponse,
  RunDetail,
  RunSummary,
  StartRunResponse,
  StopRunResponse,
} from './run-views';
import { buildRunsQuery } from './visibility-query';
import { listVisibilityPage } from './visibility-page';

/** Who decides and how the decision arrived; the run checks the identity against the step's approvers. */
export interface Decider {
  identity: Identity;
  channel: DecisionChannel;
  /** A signed link's nonce (the run refuses a nonce it has seen). */
  nonce?: string;
}

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

/** Temporal's limit on workflow ids (UTF-8 bytes, its default `limit.maxIDLength`). */
const MAX_WORKFLOW_ID_BYTES = 1000;

/** No run has an id Temporal would refuse: that is a 404, not Temporal's "invalid argument". */
function requirePossibleId(workflowId: string): void {
  if (Buffer.byteLength(workflowId) > MAX_WORKFLOW_ID_BYTES) {
    throw new NotFoundException(`run "${workflowId.slice(0, 40)}..." not found (no id is that long)`);
  }
}

@Injectable()
export class WorkflowsService {
  private readonly details: RunDetailReader;
  private readonly checkedSpecs: CheckedSpecs;

  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
    @Inject(SPEC_STORE) private readonly store: SpecStore,
    @Inject(SPEC_LIMITS) private readonly limits: SpecLimits,
    @Inject(LLM_MODELS) private readonly llm: LlmConfig | null,
    @Inject(WEBHOOK_STORE) private readonly webhooks: WebhookStore,
    @Inject(ClosedRunViews) closedRuns: ClosedRunViews,
  ) {
    this.details = new RunDetailReader(client, config, new RunReader(client, config), closedRuns);
    this.checkedSpecs = new CheckedSpecs(limits);
  }

  /**
   * Starts a run, or finds the one a previous request with the same runId started. The start
   * uses conflict policy FAIL and reuse policy REJECT_DUPLICATE instead of USE_EXISTING: the
   * 1.24 client does not say whether USE_EXISTING started anything, while FAIL answers
   * "already exists" exactly when it did not, running or closed. The existing run is only
   * "the first run" if the same request started it (its memo's hash); otherwise 409.
   */
  async start(body: StartRunBody): Promise<StartRunResponse> {
    const spec = await this.specFor(body);
    // Read while the request is checked; a request refused before the start leaves it unused.
    const webhooks = this.webhooks.targetsFor(spec.name);
    webhooks.catch(() => undefined);
    const inputs = validateInputs(spec, body.inputs);
    if (!inputs.ok) throw new RequestValidationError(inputs.issues);
    const children = await resolveChildSpecs(spec, async (name) => (await this.store.get(name))?.spec);
    if (!children.ok) {
      const at = body.specName === undefined ? 'spec' : 'specName';
      throw new RequestValidationError(children.issues.map((i) => ({ ...i, path: i.path === 'spec' ? at : i.path })));
    }
    this.checkModels(body, spec, inputs.inputs, children.childSpecs);
    const workflowId = runWorkflowId(spec.name, body.runId ?? randomUUID());
    const input: RunInput = { spec, inputs: inputs.inputs, childSpecs: children.childSpecs, options: body.options };
    const version = spec.version === undefined ? '' : ` v${spec.version}`;
    const requestHash = startRequestHash(body);
    try {
      const handle = await startSpecRun(this.client, this.config.taskQueue, {
        workflowId,
        input,
        requestHash,
        summary: `Spec ${spec.name}${version}`,
        webhooks: await webhooks,
      });
      const runId = handle.firstExecutionRunId;
      return { workflowId, runId, created: true, webUiUrl: runUrl(this.config, workflowId, runId) };
    } catch (err) {
      if (temporalErrorToHttp(err)?.statusCode === 400) {
        // E.g. the input is over the server's payload limit (2 MB by default): still the request's fault.
        const bytes = Buffer.byteLength(JSON.stringify(input));
        throw new RequestValidationError([
          {
            path: '(body)',
            message: `Temporal refused to start the run (${bytes} bytes of spec, child specs and inputs): ${describeTemporalError(err)}`,
          },
        ]);
      }
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || body.runId === undefined) throw err;
      const existing = await this.client.workflow.getHandle(workflowId).describe();
      if (existing.memo?.[REQUEST_HASH_MEMO] !== requestHash) {
        throw new ConflictException({
          statusCode: 409,
          error: 'Conflict',
          message:
            `runId "${body.runId}" conflicts with run "${workflowId}", which a different request started ` +
            '(another spec version, inputs or options); use a new runId for a different run',
          workflowId,
        });
      }
      return {
        workflowId,
        runId: existing.runId,
        created: false,
        webUiUrl: runUrl(this.config, workflowId, existing.runId),
      };
    }
  }

  /** Every model a step names must be in the workers' models config: a typo is a 400, not a run that fails later. */
  private checkModels(
    body: StartRunBody,
    spec: Spec,
    inputs: Record<string, unknown>,
    childSpecs: Record<string, Spec>,
  ): void {
    if (!this.llm) return;
    const issues = modelIssues(spec, inputs, childSpecs, this.llm);
    if (issues.length === 0) return;
    // A registered spec is named, not sent: the issue names the field and the step inside it.
    const named = body.specName !== undefined;
    throw new RequestValidationError(
      issues.map((i) => (named ? { path: 'specName', message: `${i.path}: ${i.message}` } : i)),
    );
  }

  /** One page of spec runs from Temporal visibility (eventually consistent: a new run shows up after a moment). */
  async list(query: ListRunsQuery): Promise<ListRunsResponse> {
    const page = await listVisibilityPage(this.client, this.config.namespace, {
      query: buildRunsQuery({ status: query.status, spec: query.spec }),
      pageSize: query.pageSize ?? DEFAULT_PAGE_SIZE,
      nextPageToken: query.nextPageToken,
    });
    const runs = page.executions.map((e): RunSummary => {
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
    return page.nextPageToken ? { runs, nextPageToken: page.nextPageToken } : { runs };
  }

  /**
   * The run as Temporal describes it, with its progress read without waiting on a worker (see
   * RunDetailReader for what a read costs and what is kept): `live` asks a running run's worker
   * first, briefly.
   */
  describe(workflowId: string, opts: { live?: boolean } = {}): Promise<RunDetail> {
    requirePossibleId(workflowId);
    return this.details.detail(workflowId, opts);
  }

  /**
   * Decides a waiting step. With an idempotency key the decision is the Temporal update of that
   * id, so a retry gets the first answer: from the run while it lives, from its history after.
   * The decider's user and groups come from their verified identity, never from a request body;
   * the run's validator refuses someone the step's approvers do not name (NotAnApprover → 403).
   */
  async approve(
    workflowId: string,
    stepId: string,
    body: DecisionBody,
    idempotencyKey: string | undefined,
    decider: Decider,
  ): Promise<ApprovalResponse> {
    requirePossibleId(workflowId);
    const handle = this.client.workflow.getHandle(workflowId);
    const desk = await deskDecision(this.client, workflowId, stepId, body);
    const input: ApprovalInput = {
      stepId,
      ...desk,
      by: decider.identity.user,
      groups: decider.identity.groups,
      channel: decider.channel,
      ...(body.comment !== undefined && { comment: body.comment }),
      ...(decider.nonce !== undefined && { nonce: decider.nonce }),
    };
    try {
      const result = await this.client.connection.withDeadline(Date.now() + APPROVAL_TIMEOUT_MS, () =>
        handle.executeUpdate(approveUpdate, {
          args: [input],
          ...(idempotencyKey !== undefined && { updateId: idempotencyKey }),
        }),
      );
      if (idempotencyKey !== undefined) this.requireSameDecision(idempotencyKey, input, result);
      // An input's answer is reported as it was given (accept, decline, cancel).
      return { workflowId, ...result, ...(isInputAnswer(body.decision) && { decision: body.decision }) };
    } catch (err) {
      // Temporal answers "not found" for a closed run too; that is a conflict, not a missing run.
      if (err instanceof WorkflowNotFoundError) {
        if (idempotencyKey !== undefined) {
          const earlier = await completedUpdateResult<ApprovalResult>(
            this.client,
            this.config.namespace,
            workflowId,
            idempotencyKey,
          );
          if (earlier) {
            this.requireSameDecision(idempotencyKey, input, earlier);
            return { workflowId, ...earlier };
          }
        }
        await this.failIfClosed(workflowId, `no step is waiting for approval`);
      }
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

  /** A key names one decision: used again for another one, it is refused rather than answered wrongly. */
  private requireSameDecision(key: string, asked: ApprovalInput, answered: ApprovalResult): void {
    const same =
      answered.stepId === asked.stepId &&
      answered.decision === asked.decision &&
      answered.by === asked.by &&
      (answered.comment ?? undefined) === asked.comment &&
      (answered.choice ?? undefined) === asked.choice;
    if (!same) {
      throw new ConflictException(
        `Idempotency-Key "${key}" was already used for another decision (${answered.decision} of step ` +
          `"${answered.stepId}" by ${answered.by}); use a new key for a new decision`,
      );
    }
  }

  private async specFor(body: StartRunBody): Promise<Spec> {
    if (body.specName === undefined) {
      const checked = this.checkedSpecs.check(body.spec, 'spec');
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

  /** The current run id, or 409 when the run has already closed. */
  private async requireRunning(workflowId: string, consequence: string): Promise<string> {
    requirePossibleId(workflowId);
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
