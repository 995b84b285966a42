import { Module } from '@nestjs/common';
import { EventsController } from './events.controller';
import { DEFAULT_EVENT_STREAM_TIMINGS, EVENT_STREAM_TIMINGS, EventsService } from './events.service';

/** GET /workflows/:id/events and GET /events: run events over SSE, rebuilt from history. */
@Module({
  controllers: [EventsController],
  providers: [EventsService, { provide: EVENT_STREAM_TIMINGS, useValue: DEFAULT_EVENT_STREAM_TIMINGS }],
})
export class EventsModule {}
