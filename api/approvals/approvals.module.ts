import { Module } from '@nestjs/common';
import { WorkflowsService } from '../workflows/workflows.service';
import { ApprovalLinksController } from './approval-links.controller';
import { ApprovalLinksService } from './approval-links.service';
import { ApprovalsController } from './approvals.controller';
import { InboxPageController } from './inbox-page.controller';
import { InboxService } from './inbox.service';
import { SignalTokenController } from './signal-token.controller';
import { SignalTokenService } from './signal-token.service';

/**
 * The approvals inbox (GET /approvals, JSON and page), the page's sign-in and decision forms,
 * signed approval links, and decision tokens for the `approve` signal. WorkflowsService is
 * stateless: this module has its own instance.
 */
@Module({
  controllers: [ApprovalsController, InboxPageController, ApprovalLinksController, SignalTokenController],
  providers: [InboxService, ApprovalLinksService, SignalTokenService, WorkflowsService],
})
export class ApprovalsModule {}
