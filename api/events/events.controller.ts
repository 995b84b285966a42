import { Controller, Get, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import { RUN_EVENT_TYPES } from '../../workflows/contracts/run-events';
import { CookieAuth } from '../auth';
import { ApiBadRequest, ApiPathParamFrom, ApiQueryFrom, ApiTemporalFailures, schemaRef } from '../openapi/components';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { workflowIdParamSchema } from '../workflows/run-requests';
import {
  runEventsQuerySchema,
  runResumePoint,
  specEventsQuerySchema,
  specResumePoint,
  type RunEventsQuery,
  type SpecEventsQuery,
} from './event-requests';
import { EventsService } from './events.service';

const EVENT_FORMAT =
  'Server-Sent Events: each event is `id:` (its id), `event:` (its type: ' +
  RUN_EVENT_TYPES.map((t) => `\`${t}\``).join(', ') +
  ') and one `data:` line, the run event as JSON `{ id, type, workflowId, at, step?, data }`. Comment lines ' +
  '(`: keep-alive`) keep idle connections open; `retry:` tells EventSource how long to wait before reconnecting.';

const sseResponse = (description: string) =>
  ApiResponse({
    status: 200,
    description,
    content: { 'text/event-stream': { schema: { type: 'string', description: EVENT_FORMAT } } },
  });

const lastEventIdHeader = (description: string) =>
  ApiHeader({ name: 'Last-Event-ID', required: false, description, schema: { type: 'string' } });

/** Live run events over SSE, rebuilt from history: one run's, and every run of a spec. */
@ApiTags('events')
@Controller()
export class EventsController {
  constructor(@Inject(EventsService) private readonly events: EventsService) {}

  @Get('workflows/:id/events')
  @CookieAuth()
  @ApiOperation({
    operationId: 'followRunEvents',
    summary: "Follow a run's events live (SSE): steps, approvals, progress, its end",
    description:
      "Rebuilt from the run's history (its whole continue-as-new chain), then followed as it grows; ends after " +
      '`run.finished`. Ids are `<execution>-<history event>-<n>` (execution: index in the continue-as-new chain; ' +
      'compare as integers) and increase strictly. Reconnect with `Last-Event-ID` (or `?lastEventId=`) to get ' +
      'exactly the events after it; a finished run whose events the client all has answers 204, which stops ' +
      'EventSource. `step.progress` (heartbeats of running activities: upload percent, build log lines, tokens so ' +
      'far, read about once a second) is a live snapshot: its ids use `n` ≥ 1000 and it is never sent again on ' +
      'resume. Reading the stream never slows the run: a client that stops reading only pauses its own stream.',
  })
  @ApiPathParamFrom('id', workflowIdParamSchema, { description: 'Workflow id, e.g. approval-release:demo-1' })
  @ApiQueryFrom(runEventsQuerySchema)
  @lastEventIdHeader('Resume after this event id (EventSource sends it when it reconnects)')
  @sseResponse("The run's events, then live ones until the run finishes")
  @ApiResponse({ status: 204, description: 'The run finished and the client has every event after Last-Event-ID' })
  @ApiBadRequest('Invalid workflow id or Last-Event-ID')
  @ApiResponse({ status: 404, description: 'No such run', schema: schemaRef('Error') })
  @ApiTemporalFailures()
  async runEvents(
    @Param('id', new ZodValidationPipe(workflowIdParamSchema, 'id')) id: string,
    @Query(new ZodValidationPipe(runEventsQuerySchema)) query: RunEventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const after = runResumePoint(lastEventId, query.lastEventId);
    await this.events.streamRun(res, id, after);
  }

  @Get('events')
  @CookieAuth()
  @ApiOperation({
    operationId: 'followSpecEvents',
    summary: 'Follow the events of every run of a spec, live (SSE)',
    description:
      'Runs are found through visibility (running, or closed since the stream began) and followed like GET ' +
      "/workflows/:id/events; their events are merged as they come. Each event's `data.id` is its id in its own " +
      "run's stream; the SSE `id:` is a cursor (`c1.…`) naming what the stream has sent, from which " +
      '`Last-Event-ID` resumes with nothing missed and nothing twice, as long as visibility and history times lag ' +
      'this server by less than 15 s. A new stream starts now: events from before it are not sent. It does not end.',
  })
  @ApiQueryFrom(specEventsQuerySchema)
  @lastEventIdHeader('Resume from this cursor (the `id:` of the last event received)')
  @sseResponse('Events of the runs of the spec, as they happen')
  @ApiBadRequest('Invalid spec name or Last-Event-ID')
  @ApiTemporalFailures()
  async specEvents(
    @Query(new ZodValidationPipe(specEventsQuerySchema)) query: SpecEventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const cursor = specResumePoint(lastEventId, query.lastEventId);
    await this.events.streamSpec(res, query.spec, cursor);
  }
}
