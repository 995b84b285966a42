import { Global, Module } from '@nestjs/common';
import { ClosedRunViews } from './closed-run-views';
import { HistoryController } from './history.controller';
import { HistoryService } from './history.service';
import { ReplayService } from './replay.service';
import { RerunService } from './rerun.service';

/**
 * /workflows/:id/history, /steps, /replay, /rerun and /retry. Global for ClosedRunViews: the
 * run reads (/workflows) keep closed runs' answers, and a rerun here drops its source's.
 */
@Global()
@Module({
  controllers: [HistoryController],
  providers: [HistoryService, ReplayService, RerunService, ClosedRunViews],
  exports: [ClosedRunViews],
})
export class HistoryModule {}
