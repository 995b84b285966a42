import { Module } from '@nestjs/common';
import { WorkflowsService } from '../workflows/workflows.service';
import { ApprovalLinksController } from './approval-links.controller';
import { ApprovalLinksService } from './approval-links.service';
import { ApprovalsController } from './approvals.controller';
import { InboxPageController } from './inbox-page.controller';
import { InboxService } from './inbox.service';

/**
 * The approvals inbox (GET /approvals, JSON and page), the page's sign-in and decision forms,
 * and signed approval links. WorkflowsService is stateless: this module has its own instance.
 */
@Module({
  controllers: [ApprovalsController, InboxPageController, ApprovalLinksController],
  providers: [InboxService, ApprovalLinksService, WorkflowsService],
})
export class ApprovalsModule {}
