import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { TemporalConfig } from '../../temporal/config';
import type { Identity } from '../../workflows/contracts/identity';
import { CookieAuth, CurrentIdentity, RequireRole } from '../auth';
import type { AuthOptions } from '../auth/auth-options';
import {
  ApiBadRequest,
  ApiPathParamFrom,
  ApiQueryFrom,
  ApiTemporalFailures,
  ApiTooLarge,
  schemaRef,
} from '../openapi/components';
import { AUTH_OPTIONS, TEMPORAL_CONFIG } from '../tokens';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { stepIdParamSchema, workflowIdParamSchema } from '../workflows/run-requests';
import {
  listApprovalsQuerySchema,
  mintLinksBodySchema,
  type ListApprovalsQuery,
  type MintLinksBody,
} from './approval-requests';
import type { ApprovalLinksResponse, ListApprovalsResponse } from './approval-views';
import { ApprovalLinksService } from './approval-links.service';
import { InboxService } from './inbox.service';
import { jsonOrPage } from './json-or-page';
import { setPageHeaders, type HeaderSettable } from './page/html';
import { inboxPage } from './page/inbox-page';
import { prefersHtml } from './page/negotiate';
import { PageExceptionFilter } from './page/page-exception.filter';
import { requireSigningSecret } from './page/page-guards';
import { clearFlashCookie, csrfTokenFor, flashOf, sessionTokenOf } from './page/session';
import { publicUrls, type OriginRequest } from './public-urls';

type InboxRequest = OriginRequest & { headers: Record<string, string | string[] | undefined> };

/** Runs per page the HTML inbox shows at most (the JSON listing pages with nextPageToken). */
const PAGE_RUNS = 200;

@ApiTags('approvals')
@Controller()
export class ApprovalsController {
  constructor(
    @Inject(InboxService) private readonly inbox: InboxService,
    @Inject(ApprovalLinksService) private readonly links: ApprovalLinksService,
    @Inject(AUTH_OPTIONS) private readonly auth: AuthOptions,
    @Inject(TEMPORAL_CONFIG) private readonly temporal: TemporalConfig,
  ) {}

  @Get('approvals')
  @CookieAuth()
  @UseFilters(new PageExceptionFilter('inbox'))
  @ApiOperation({
    operationId: 'listApprovals',
    summary: 'Pending approvals across running runs (from visibility and each run’s memo; eventually consistent)',
    description:
      'JSON by default. A browser (Accept ranks text/html first) gets the inbox page instead: a sign-in form ' +
      'without a session, else the approvals the signed-in user may decide, with approve / reject buttons.',
  })
  @ApiQueryFrom(listApprovalsQuerySchema)
  @ApiResponse({ status: 200, content: jsonOrPage('ListApprovalsResponse', 'The inbox page') })
  @ApiBadRequest('Invalid filter, page size or page token')
  @ApiTemporalFailures()
  async list(
    @Query(new ZodValidationPipe(listApprovalsQuerySchema)) query: ListApprovalsQuery,
    @CurrentIdentity() identity: Identity,
    @Req() req: InboxRequest,
    @Res({ passthrough: true }) res: HeaderSettable,
  ): Promise<ListApprovalsResponse | string> {
    const urls = publicUrls(this.auth, this.temporal, req);
    if (!prefersHtml(req.headers.accept)) return this.inbox.list(query, identity, urls);

    const secret = requireSigningSecret(this.auth, 'The approvals page');
    const session = sessionTokenOf(req);
    const flash = flashOf(req);
    const { approvals, nextPageToken } = await this.inbox.list(
      { ...query, mine: query.mine ?? true, pageSize: query.pageSize ?? PAGE_RUNS },
      identity,
      urls,
    );
    setPageHeaders(res);
    if (flash) res.setHeader('Set-Cookie', clearFlashCookie(urls.base.startsWith('https:')));
    // A caller with only a bearer header has no session for the forms to carry; the CSRF token
    // then matches nothing and the page's posts are refused, as they should be.
    const csrf = session ? csrfTokenFor(session, secret) : '';
    return inboxPage({ identity, approvals, csrf, flash, more: nextPageToken !== undefined });
  }

  @Post('workflows/:id/approvals/:stepId/links')
  @HttpCode(201)
  @RequireRole('approver')
  @ApiOperation({
    operationId: 'mintApprovalLinks',
    summary: 'Signed, single-use approve / reject links for a waiting step (for chat and email buttons)',
    description:
      'The links decide as the caller (an admin may name another identity in `for`); refused (403) when that ' +
      'identity may not decide the step. Opening a link shows a confirmation page; its button decides. ' +
      'Each link works once and expires (default: with the approval’s timeout, else 24h; at most 7 days).',
  })
  @ApiPathParamFrom('id', workflowIdParamSchema, { description: 'Workflow id, e.g. approval-release:r1' })
  @ApiPathParamFrom('stepId', stepIdParamSchema, { description: 'The waiting step, e.g. approve' })
  @ApiBody({ schema: schemaRef('MintLinksBody'), required: false })
  @ApiResponse({ status: 201, schema: schemaRef('ApprovalLinksResponse') })
  @ApiBadRequest()
  @ApiResponse({ status: 403, description: 'That identity may not decide this step', schema: schemaRef('Error') })
  @ApiResponse({ status: 404, description: 'No such run', schema: schemaRef('Error') })
  @ApiResponse({
    status: 409,
    description: 'The step is not waiting, or the run is closed',
    schema: schemaRef('Error'),
  })
  @ApiTooLarge()
  @ApiResponse({
    status: 503,
    description: 'No SIGNING_SECRET is configured, or Temporal is unreachable',
    schema: schemaRef('Error'),
  })
  @ApiTemporalFailures()
  mintLinks(
    @Param('id', new ZodValidationPipe(workflowIdParamSchema, 'id')) id: string,
    @Param('stepId', new ZodValidationPipe(stepIdParamSchema, 'stepId')) stepId: string,
    @Body(new ZodValidationPipe(mintLinksBodySchema)) body: MintLinksBody,
    @CurrentIdentity() identity: Identity,
    @Req() req: InboxRequest,
  ): Promise<ApprovalLinksResponse> {
    const secret = requireSigningSecret(this.auth, 'Signed approval links');
    const urls = publicUrls(this.auth, this.temporal, req);
    return this.links.mint(id, stepId, body, identity, urls.base, secret);
  }
}
