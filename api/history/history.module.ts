import { Module } from '@nestjs/common';
import { HistoryController } from './history.controller';
import { HistoryService } from './history.service';
import { ReplayService } from './replay.service';
import { RerunService } from './rerun.service';

/** /workflows/:id/history, /steps, /replay, /rerun and /retry. */
@Module({ controllers: [HistoryController], providers: [HistoryService, ReplayService, RerunService] })
export class HistoryModule {}
