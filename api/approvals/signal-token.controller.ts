import { Body, Controller, Header, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Identity } from '../../workflows/contracts/identity';
import { CurrentIdentity, RequireRole } from '../auth';
import type { AuthOptions } from '../auth/auth-options';
import { ApiBadRequest, ApiPathParamFrom, ApiTemporalFailures, ApiTooLarge, schemaRef } from '../openapi/components';
import { AUTH_OPTIONS } from '../tokens';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { stepIdParamSchema, workflowIdParamSchema } from '../workflows/run-requests';
import { requireSigningSecret } from './page/page-guards';
import { signalTokenBodySchema, type SignalTokenBody, type SignalTokenResponse } from './signal-token-schemas';
import { SignalTokenService } from './signal-token.service';

@ApiTags('approvals')
@Controller('workflows')
export class SignalTokenController {
  constructor(
    @Inject(SignalTokenService) private readonly tokens: SignalTokenService,
    @Inject(AUTH_OPTIONS) private readonly auth: AuthOptions,
  ) {}

  @Post(':id/approvals/:stepId/signal-token')
  @HttpCode(201)
  @RequireRole('approver')
  // A credential: no cache may keep it.
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'mintSignalToken',
    summary: 'A single-use token for deciding a waiting step with the `approve` signal (Temporal CLI, Web UI)',
    description:
      'The token decides as the caller, for this run, step and decision only, once, until it expires (default 15m, ' +
      'at most 24h); refused (403) when the step’s approvers do not name the caller. `command` is the ' +
      '`temporal workflow signal` line to run. Unlike a bearer token, the token in the run’s history can do ' +
      'nothing more than the decision it was minted for; the history API shows it as "[redacted]".',
  })
  @ApiPathParamFrom('id', workflowIdParamSchema, { description: 'Workflow id, e.g. approval-release:r1' })
  @ApiPathParamFrom('stepId', stepIdParamSchema, { description: 'The waiting step, e.g. approve' })
  @ApiBody({ schema: schemaRef('SignalTokenBody') })
  @ApiResponse({ status: 201, schema: schemaRef('SignalTokenResponse') })
  @ApiBadRequest()
  @ApiResponse({ status: 403, description: 'The caller may not decide this step', schema: schemaRef('Error') })
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
  mint(
    @Param('id', new ZodValidationPipe(workflowIdParamSchema, 'id')) id: string,
    @Param('stepId', new ZodValidationPipe(stepIdParamSchema, 'stepId')) stepId: string,
    @Body(new ZodValidationPipe(signalTokenBodySchema)) body: SignalTokenBody,
    @CurrentIdentity() identity: Identity,
  ): Promise<SignalTokenResponse> {
    const secret = requireSigningSecret(this.auth, 'Decision tokens for the approve signal');
    return this.tokens.mint(id, stepId, body, identity, secret);
  }
}
