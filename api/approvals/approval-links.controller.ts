/**
 * Where a signed link leads. The link is the credential (@Public): GET shows a confirmation page
 * and never decides (mail scanners and chat previews fetch links); POST decides. JSON instead of
 * pages when Accept prefers application/json (chat buttons calling back).
 */
import { applyDecorators, Controller, Get, HttpCode, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth';
import type { AuthOptions } from '../auth/auth-options';
import { ApiBadRequest, ApiPathParamFrom, ApiTemporalFailures, ApiTooLarge, schemaRef } from '../openapi/components';
import { AUTH_OPTIONS } from '../tokens';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import type { ApprovalResponse } from '../workflows/run-views';
import { linkDecisionBodySchema, linkTokenParamSchema } from './approval-requests';
import type { ApprovalLinkView } from './approval-views';
import { ApprovalLinksService } from './approval-links.service';
import { readForm, type BodyRequest } from './page/form-body';
import { jsonOrPage } from './json-or-page';
import { setPageHeaders, type HeaderSettable } from './page/html';
import { linkConfirmPage, linkDonePage } from './page/link-pages';
import { prefersHtml } from './page/negotiate';
import { PageExceptionFilter } from './page/page-exception.filter';
import { requireSigningSecret } from './page/page-guards';

const token = () => Param('token', new ZodValidationPipe(linkTokenParamSchema, 'token'));
const ApiToken = () =>
  ApiPathParamFrom('token', linkTokenParamSchema, { description: 'The signed token from the link URL' });
const ApiLinkRefusals = () =>
  applyDecorators(
    ApiBadRequest('Not a link this server signed (malformed or tampered)'),
    ApiResponse({ status: 404, description: 'The run no longer exists', schema: schemaRef('Error') }),
    ApiResponse({ status: 410, description: 'The link has expired', schema: schemaRef('Error') }),
    ApiResponse({
      status: 503,
      description: 'No SIGNING_SECRET is configured, or Temporal is unreachable',
      schema: schemaRef('Error'),
    }),
    ApiTemporalFailures(),
  );

@ApiTags('approvals')
@Controller('approvals/links')
@Public()
@UseFilters(new PageExceptionFilter('link'))
export class ApprovalLinksController {
  constructor(
    @Inject(ApprovalLinksService) private readonly links: ApprovalLinksService,
    @Inject(AUTH_OPTIONS) private readonly auth: AuthOptions,
  ) {}

  @Get(':token')
  @ApiOperation({
    operationId: 'viewApprovalLink',
    summary: 'What a signed approval link would decide (a confirmation page for browsers); decides nothing',
  })
  @ApiToken()
  @ApiResponse({ status: 200, content: jsonOrPage('ApprovalLinkView', 'The confirmation page') })
  @ApiLinkRefusals()
  async view(
    @token() linkToken: string,
    @Req() req: BodyRequest,
    @Res({ passthrough: true }) res: HeaderSettable,
  ): Promise<ApprovalLinkView | string> {
    const claims = this.links.verify(linkToken, requireSigningSecret(this.auth, 'Signed approval links'));
    const view = await this.links.view(claims);
    if (!prefersHtml(req.headers.accept)) return view;
    setPageHeaders(res);
    return linkConfirmPage(view);
  }

  @Post(':token')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'useApprovalLink',
    summary: 'Decide as the signed link says (once): approve or reject, with an optional comment',
    description:
      'A link works once: a second use, or a decision on a step that is no longer waiting, is a 409; the run ' +
      'records the link’s nonce and the decider’s identity with channel `link`.',
  })
  @ApiToken()
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({ schema: schemaRef('LinkDecisionBody'), required: false })
  @ApiResponse({
    status: 200,
    description: 'Decision recorded',
    content: jsonOrPage('ApprovalResponse', 'The confirmation of the decision'),
  })
  @ApiResponse({
    status: 403,
    description: 'The identity the link names may no longer decide (e.g. after escalation)',
    schema: schemaRef('Error'),
  })
  @ApiResponse({
    status: 409,
    description: 'Already used, already decided, not waiting, or the run is closed',
    schema: schemaRef('DecisionConflict'),
  })
  @ApiTooLarge()
  @ApiResponse({ status: 415, description: 'A body that is neither JSON nor a form', schema: schemaRef('Error') })
  @ApiLinkRefusals()
  async use(
    @token() linkToken: string,
    @Req() req: BodyRequest,
    @Res({ passthrough: true }) res: HeaderSettable,
  ): Promise<ApprovalResponse | string> {
    const claims = this.links.verify(linkToken, requireSigningSecret(this.auth, 'Signed approval links'));
    const body = new ZodValidationPipe(linkDecisionBodySchema).transform(await readForm(req));
    const result = await this.links.decide(claims, body?.comment?.trim() ? body.comment : undefined);
    if (!prefersHtml(req.headers.accept)) return result;
    setPageHeaders(res);
    return linkDonePage(result);
  }
}
