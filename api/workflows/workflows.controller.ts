import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Identity } from '../../workflows/contracts/identity';
import { CurrentIdentity, RequireRole } from '../auth';
import { CLOSED_VIEW_FRESH_MS } from '../history/closed-run-views';
import { LIVE_PROGRESS_TIMEOUT_MS } from '../history/run-reader';
import {
  ApiBadRequest,
  ApiPathParamFrom,
  ApiQueryFrom,
  ApiTemporalFailures,
  ApiTooLarge,
  schemaRef,
} from '../openapi/components';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import {
  approvalBodySchema,
  getRunQuerySchema,
  idempotencyKeySchema,
  listRunsQuerySchema,
  startRunBodySchema,
  stepIdParamSchema,
  stopRunBodySchema,
  workflowIdParamSchema,
  type ApprovalBody,
  type GetRunQuery,
  type ListRunsQuery,
  type StartRunBody,
  type StopRunBody,
} from './run-requests';
import type { ApprovalResponse, ListRunsResponse, RunDetail, StartRunResponse, StopRunResponse } from './run-views';
import { WorkflowsService } from './workflows.service';

interface StatusSettable {
  status(code: number): unknown;
}

const workflowId = () => Param('id', new ZodValidationPipe(workflowIdParamSchema, 'id'));
const ApiWorkflowId = () =>
  ApiPathParamFrom('id', workflowIdParamSchema, {
    description: 'Workflow id: `<spec name>:<runId>` for runs started here, e.g. approval-release:demo-1',
  });
const notFound = ApiResponse({ status: 404, description: 'No such run', schema: schemaRef('Error') });

/** From a started run to what can be done with it, for clients (and fuzzers) that follow links. */
const RUN_LINKS = {
  GetRun: { operationId: 'getRun', parameters: { id: '$response.body#/workflowId' } },
  CancelRun: { operationId: 'cancelRun', parameters: { id: '$response.body#/workflowId' } },
  TerminateRun: { operationId: 'terminateRun', parameters: { id: '$response.body#/workflowId' } },
};

@ApiTags('workflows')
@Controller('workflows')
export class WorkflowsController {
  constructor(@Inject(WorkflowsService) private readonly runs: WorkflowsService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({
    operationId: 'startRun',
    summary: 'Start a run of an inline spec or a registered one (idempotent with runId)',
    description:
      'Besides the schema: an inline spec is checked like POST /specs (size limits, references); a named spec ' +
      'must be registered (and have specVersion, if given); inputs must be those the spec declares, of their types.',
  })
  @ApiBody({ schema: schemaRef('StartRunBody') })
  @ApiResponse({ status: 201, description: 'Run started', schema: schemaRef('StartRunResponse'), links: RUN_LINKS })
  @ApiResponse({
    status: 200,
    description: 'A run with this runId was already started by the same request: that run',
    schema: schemaRef('StartRunResponse'),
    links: RUN_LINKS,
  })
  @ApiBadRequest('Invalid spec, inputs or request; unknown spec or version')
  @ApiResponse({
    status: 409,
    description: 'The runId is taken by a run a different request started',
    schema: schemaRef('Error'),
  })
  @ApiTooLarge()
  @ApiTemporalFailures()
  async start(
    @Body(new ZodValidationPipe(startRunBodySchema)) body: StartRunBody,
    @Res({ passthrough: true }) res: StatusSettable,
  ): Promise<StartRunResponse> {
    const started = await this.runs.start(body);
    res.status(started.created ? 201 : 200);
    return started;
  }

  @Get()
  @ApiOperation({
    operationId: 'listRuns',
    summary: 'List runs from Temporal visibility (newest first; eventually consistent)',
  })
  @ApiQueryFrom(listRunsQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('ListRunsResponse') })
  @ApiBadRequest('Invalid filter, page size or page token')
  @ApiTemporalFailures()
  list(@Query(new ZodValidationPipe(listRunsQuerySchema)) query: ListRunsQuery): Promise<ListRunsResponse> {
    return this.runs.list(query);
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getRun',
    summary: 'A run: status, progress, and its result or failure once closed',
    description:
      "Progress never waits on a worker: a completed run's comes from its result, every other run's from its " +
      "history (progressSource says which). `live=true` asks a running run's worker first (the progress query, " +
      `with outputs and budgets) and falls back to the history after ${LIVE_PROGRESS_TIMEOUT_MS} ms, saying why in ` +
      "progressError; a closed run is never asked. A closed run's answer is kept by the API: asked again within " +
      `${CLOSED_VIEW_FRESH_MS / 1000} s it is served as is, later after a check that the id was not run again (reset).`,
  })
  @ApiWorkflowId()
  @ApiQueryFrom(getRunQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('RunDetail') })
  @ApiBadRequest('Invalid workflow id or query')
  @notFound
  @ApiTemporalFailures()
  describe(
    @workflowId() id: string,
    @Query(new ZodValidationPipe(getRunQuerySchema)) query: GetRunQuery,
  ): Promise<RunDetail> {
    return this.runs.describe(id, { live: query.live });
  }

  @Post(':id/approvals/:stepId')
  @HttpCode(200)
  @RequireRole('approver')
  @ApiOperation({
    operationId: 'decideApproval',
    summary: 'Approve or reject a step that waits for approval, or answer an input an MCP server asked for',
    description:
      'An input (pendingApprovals entry of kind `input`, id `<step>~input-<n>`: an MCP server elicits during a ' +
      'tool call) is answered with `accept` and `content` matching its requestedSchema (else 400 naming the ' +
      'field, e.g. content.email), `decline` or `cancel`; the answer goes back to the server. ' +
      'The decider is the identity of the bearer token (recorded with channel `api`); a step that names ' +
      '`approvers` (users or groups) refuses anyone else with a 403 and its history unchanged. ' +
      'A step is decided once: a second decision is a 409 naming who decided and when. Send an ' +
      '`Idempotency-Key` to retry safely: the same key with the same body returns the first answer.',
  })
  @ApiWorkflowId()
  @ApiPathParamFrom('stepId', stepIdParamSchema, {
    description: 'Step path as shown in progress.pendingApprovals, e.g. approve',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Names this decision (it becomes the Temporal update id): a retry with the same key and body gets the ' +
      'first answer, even after the run closed; the same key with another decision is a 409.',
    schema: { type: 'string', pattern: '^[\\x21-\\x7E]{1,200}$' },
  })
  @ApiBody({ schema: schemaRef('ApprovalBody') })
  @ApiResponse({ status: 200, description: 'Decision recorded', schema: schemaRef('ApprovalResponse') })
  @ApiBadRequest()
  @ApiResponse({
    status: 403,
    description: "The caller lacks the approver role, or is not among the step's approvers",
    schema: schemaRef('Error'),
  })
  @ApiResponse({
    status: 409,
    description:
      'The step was already decided (decidedBy, decidedAt), is not waiting, the run is closed, or the ' +
      'Idempotency-Key was used for another decision',
    schema: schemaRef('DecisionConflict'),
  })
  @notFound
  @ApiTooLarge()
  @ApiTemporalFailures()
  approve(
    @workflowId() id: string,
    @Param('stepId', new ZodValidationPipe(stepIdParamSchema, 'stepId')) stepId: string,
    @Body(new ZodValidationPipe(approvalBodySchema)) body: ApprovalBody,
    @Headers('idempotency-key') idempotencyKey: unknown,
    @CurrentIdentity() identity: Identity,
  ): Promise<ApprovalResponse> {
    // Headers take no pipes in Nest: parsed here.
    const key = new ZodValidationPipe(idempotencyKeySchema, 'Idempotency-Key').transform(idempotencyKey);
    return this.runs.approve(id, stepId, body, key, { identity, channel: 'api' });
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({
    operationId: 'cancelRun',
    summary: 'Request cancellation: running steps are cancelled and the run closes as cancelled',
  })
  @ApiWorkflowId()
  @ApiBody({ schema: schemaRef('StopRunBody'), required: false })
  @ApiResponse({ status: 202, schema: schemaRef('StopRunResponse') })
  @ApiBadRequest()
  @ApiResponse({ status: 409, description: 'The run is already closed', schema: schemaRef('Error') })
  @notFound
  @ApiTooLarge()
  @ApiTemporalFailures()
  cancel(
    @workflowId() id: string,
    @Body(new ZodValidationPipe(stopRunBodySchema)) body: StopRunBody,
  ): Promise<StopRunResponse> {
    return this.runs.cancel(id, body);
  }

  @Post(':id/terminate')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ operationId: 'terminateRun', summary: 'Terminate at once: no cleanup runs inside the workflow' })
  @ApiWorkflowId()
  @ApiBody({ schema: schemaRef('StopRunBody'), required: false })
  @ApiResponse({ status: 200, schema: schemaRef('StopRunResponse') })
  @ApiBadRequest()
  @ApiResponse({ status: 409, description: 'The run is already closed', schema: schemaRef('Error') })
  @notFound
  @ApiTooLarge()
  @ApiTemporalFailures()
  terminate(
    @workflowId() id: string,
    @Body(new ZodValidationPipe(stopRunBodySchema)) body: StopRunBody,
  ): Promise<StopRunResponse> {
    return this.runs.terminate(id, body);
  }
}
