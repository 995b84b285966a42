import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ApiBadRequest,
  ApiPathParamFrom,
  ApiQueryFrom,
  ApiTemporalFailures,
  ApiTooLarge,
  schemaRef,
} from '../openapi/components';
import { RequireRole } from '../auth';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { workflowIdParamSchema } from '../workflows/run-requests';
import {
  rerunBodySchema,
  retryBodySchema,
  runSelectorQuerySchema,
  type RerunBody,
  type RetryBody,
  type RunSelectorQuery,
} from './history-requests';
import type { ReplayVerdictView, RerunResponse, StepTimeline } from './history-views';
import { HistoryService } from './history.service';
import { ReplayService } from './replay.service';
import { RerunService } from './rerun.service';

interface StatusSettable {
  status(code: number): unknown;
}

const workflowId = () => Param('id', new ZodValidationPipe(workflowIdParamSchema, 'id'));
const runSelector = () => Query(new ZodValidationPipe(runSelectorQuerySchema));
const ApiWorkflowId = () =>
  ApiPathParamFrom('id', workflowIdParamSchema, { description: 'Workflow id, e.g. approval-release:demo-1' });
const notFound = ApiResponse({ status: 404, description: 'No such run', schema: schemaRef('Error') });
const repeatConflict = ApiResponse({
  status: 409,
  description:
    "The run is still running, is not a spec run, cannot start again under today's checks, no longer holds an " +
    'output the new run needs, or the runId is taken by another request',
  schema: schemaRef('Error'),
});
const repeatStarted = (status: 200 | 201) =>
  ApiResponse({
    status,
    description:
      status === 201 ? 'The new run started' : 'A run with this runId was already started by the same request',
    schema: schemaRef('RerunResponse'),
  });

/** Debugging runs: their history and steps, a replay against today's code, reruns and retries. */
@ApiTags('workflows')
@Controller('workflows')
export class HistoryController {
  constructor(
    @Inject(HistoryService) private readonly histories: HistoryService,
    @Inject(ReplayService) private readonly replays: ReplayService,
    @Inject(RerunService) private readonly reruns: RerunService,
  ) {}

  @Get(':id/history')
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOperation({
    operationId: 'getRunHistory',
    summary: "The run's event history as JSON, as the Temporal CLI and Web UI export it",
    description: 'Save it and replay it with `npm run replay -- <file> --workflow-id <id>`.',
  })
  @ApiWorkflowId()
  @ApiQueryFrom(runSelectorQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('WorkflowHistory') })
  @ApiBadRequest('Invalid workflow id or runId')
  @notFound
  @ApiTemporalFailures()
  async history(@workflowId() id: string, @runSelector() query: RunSelectorQuery): Promise<string> {
    return (await this.histories.historyJson(id, query.runId)).json;
  }

  @Get(':id/steps')
  @ApiOperation({
    operationId: 'getRunSteps',
    summary: "The run's steps as a timeline: path, kind, status, attempts, start, end, failure",
    description: 'Covers the whole continue-as-new chain up to the run asked for.',
  })
  @ApiWorkflowId()
  @ApiQueryFrom(runSelectorQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('StepTimeline') })
  @ApiBadRequest('Invalid workflow id or runId')
  @notFound
  @ApiTemporalFailures()
  steps(@workflowId() id: string, @runSelector() query: RunSelectorQuery): Promise<StepTimeline> {
    return this.histories.steps(id, query.runId);
  }

  @Post(':id/replay')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    operationId: 'replayRun',
    summary: "Replay the run's history against the workflow code installed here: deterministic, or where it diverges",
    description:
      'Nothing runs against the server: the history is replayed offline, in a child process of the API. The first ' +
      'replay bundles the workflow code (seconds); later ones take about a second.',
  })
  @ApiWorkflowId()
  @ApiQueryFrom(runSelectorQuerySchema)
  @ApiResponse({
    status: 200,
    description: 'The verdict (also when not deterministic)',
    schema: schemaRef('ReplayVerdict'),
  })
  @ApiBadRequest('Invalid workflow id or runId')
  @notFound
  @ApiTooLarge()
  @ApiResponse({ status: 502, description: 'Temporal answered with an unexpected error', schema: schemaRef('Error') })
  @ApiResponse({
    status: 503,
    description: 'Temporal is unreachable, or the replayer is busy or stopped',
    schema: schemaRef('Error'),
  })
  @ApiResponse({
    status: 504,
    description: 'Temporal or the replay did not answer in time',
    schema: schemaRef('Error'),
  })
  replay(@workflowId() id: string, @runSelector() query: RunSelectorQuery): Promise<ReplayVerdictView> {
    return this.replays.replay(id, query.runId);
  }

  @Post(':id/rerun')
  @RequireRole('operator')
  @ApiOperation({
    operationId: 'rerunRun',
    summary: 'Start a new run of the same spec and inputs from a step, reusing the outputs recorded before it',
    description:
      'The steps before fromStep are not executed again (no model or tool calls): the new run starts with their ' +
      'recorded outputs. The run must have ended. The new run names the old one (rerunOf), and GET /workflows/:id ' +
      'of the old one lists it under reruns.',
  })
  @ApiWorkflowId()
  @ApiBody({ schema: schemaRef('RerunBody') })
  @repeatStarted(201)
  @repeatStarted(200)
  @ApiBadRequest('Invalid request; fromStep is not a top-level step, or a step before it did not complete')
  @notFound
  @repeatConflict
  @ApiTooLarge()
  @ApiTemporalFailures()
  async rerun(
    @workflowId() id: string,
    @Body(new ZodValidationPipe(rerunBodySchema)) body: RerunBody,
    @Res({ passthrough: true }) res: StatusSettable,
  ): Promise<RerunResponse> {
    const started = await this.reruns.rerun(id, body);
    res.status(started.created ? 201 : 200);
    return started;
  }

  @Post(':id/retry')
  @RequireRole('operator')
  @ApiOperation({
    operationId: 'retryRun',
    summary: 'Start a failed, cancelled, terminated or timed-out run again as it was (same spec, inputs, options)',
  })
  @ApiWorkflowId()
  @ApiBody({ schema: schemaRef('RetryBody'), required: false })
  @repeatStarted(201)
  @repeatStarted(200)
  @ApiBadRequest()
  @notFound
  @repeatConflict
  @ApiTooLarge()
  @ApiTemporalFailures()
  async retry(
    @workflowId() id: string,
    @Body(new ZodValidationPipe(retryBodySchema)) body: RetryBody,
    @Res({ passthrough: true }) res: StatusSettable,
  ): Promise<RerunResponse> {
    const started = await this.reruns.retry(id, body);
    res.status(started.created ? 201 : 200);
    return started;
  }
}
