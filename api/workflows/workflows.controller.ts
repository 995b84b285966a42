import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryFrom, schemaRef } from '../openapi/components';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import {
  approvalBodySchema,
  listRunsQuerySchema,
  startRunBodySchema,
  stepIdParamSchema,
  stopRunBodySchema,
  workflowIdParamSchema,
  type ApprovalBody,
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
  ApiParam({ name: 'id', schema: { type: 'string' }, description: 'Workflow id, e.g. approval-release-<runId>' });
const notFound = ApiResponse({ status: 404, description: 'No such run', schema: schemaRef('Error') });
const unavailable = ApiResponse({ status: 503, description: 'Temporal unreachable', schema: schemaRef('Error') });

@ApiTags('workflows')
@Controller('workflows')
export class WorkflowsController {
  constructor(@Inject(WorkflowsService) private readonly runs: WorkflowsService) {}

  @Post()
  @ApiOperation({ summary: 'Start a run of an inline spec or a registered one (idempotent with runId)' })
  @ApiBody({ schema: schemaRef('StartRunBody') })
  @ApiResponse({ status: 201, description: 'Run started', schema: schemaRef('StartRunResponse') })
  @ApiResponse({
    status: 200,
    description: 'A run with this runId already existed',
    schema: schemaRef('StartRunResponse'),
  })
  @ApiResponse({ status: 400, description: 'Invalid spec, inputs or request', schema: schemaRef('ValidationError') })
  @unavailable
  async start(
    @Body(new ZodValidationPipe(startRunBodySchema)) body: StartRunBody,
    @Res({ passthrough: true }) res: StatusSettable,
  ): Promise<StartRunResponse> {
    const started = await this.runs.start(body);
    res.status(started.created ? 201 : 200);
    return started;
  }

  @Get()
  @ApiOperation({ summary: 'List runs from Temporal visibility (newest first; eventually consistent)' })
  @ApiQueryFrom(listRunsQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('ListRunsResponse') })
  @ApiResponse({ status: 400, schema: schemaRef('ValidationError') })
  @unavailable
  list(@Query(new ZodValidationPipe(listRunsQuerySchema)) query: ListRunsQuery): Promise<ListRunsResponse> {
    return this.runs.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A run: status, progress, and its result or failure once closed' })
  @ApiWorkflowId()
  @ApiResponse({ status: 200, schema: schemaRef('RunDetail') })
  @notFound
  @unavailable
  describe(@workflowId() id: string): Promise<RunDetail> {
    return this.runs.describe(id);
  }

  @Post(':id/approvals/:stepId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve or reject a step that waits for approval' })
  @ApiWorkflowId()
  @ApiParam({
    name: 'stepId',
    schema: { type: 'string' },
    description: 'Step path as shown in progress.pendingApprovals, e.g. approve',
  })
  @ApiBody({ schema: schemaRef('ApprovalBody') })
  @ApiResponse({ status: 200, description: 'Decision recorded', schema: schemaRef('ApprovalResponse') })
  @ApiResponse({
    status: 409,
    description: 'The step is not waiting (or the run is closed)',
    schema: schemaRef('Error'),
  })
  @notFound
  approve(
    @workflowId() id: string,
    @Param('stepId', new ZodValidationPipe(stepIdParamSchema, 'stepId')) stepId: string,
    @Body(new ZodValidationPipe(approvalBodySchema)) body: ApprovalBody,
  ): Promise<ApprovalResponse> {
    return this.runs.approve(id, stepId, body);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOperation({ summary: 'Request cancellation: running steps are cancelled and the run closes as cancelled' })
  @ApiWorkflowId()
  @ApiBody({ schema: schemaRef('StopRunBody'), required: false })
  @ApiResponse({ status: 202, schema: schemaRef('StopRunResponse') })
  @ApiResponse({ status: 409, description: 'The run is already closed', schema: schemaRef('Error') })
  @notFound
  cancel(
    @workflowId() id: string,
    @Body(new ZodValidationPipe(stopRunBodySchema)) body: StopRunBody,
  ): Promise<StopRunResponse> {
    return this.runs.cancel(id, body);
  }

  @Post(':id/terminate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Terminate at once: no cleanup runs inside the workflow' })
  @ApiWorkflowId()
  @ApiBody({ schema: schemaRef('StopRunBody'), required: false })
  @ApiResponse({ status: 200, schema: schemaRef('StopRunResponse') })
  @ApiResponse({ status: 409, description: 'The run is already closed', schema: schemaRef('Error') })
  @notFound
  terminate(
    @workflowId() id: string,
    @Body(new ZodValidationPipe(stopRunBodySchema)) body: StopRunBody,
  ): Promise<StopRunResponse> {
    return this.runs.terminate(id, body);
  }
}
