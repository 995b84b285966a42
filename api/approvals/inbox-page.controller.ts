/**
 * The inbox page's form posts: sign in (a bearer token becomes the HttpOnly session cookie),
 * sign out, and decide (CSRF-checked, then the same update as POST /workflows/:id/approvals/:stepId).
 * Browser-only, answering redirects and pages: not part of the JSON API's document.
 */
import { Controller, ForbiddenException, HttpException, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { z } from 'zod';
import { AuthError } from '../../activities/identity/token-verifier';
import type { Identity } from '../../workflows/contracts/identity';
import { CookieAuth, CurrentIdentity, Public, RequireRole } from '../auth';
import type { AuthOptions } from '../auth/auth-options';
import { AUTH_OPTIONS } from '../tokens';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { WorkflowsService } from '../workflows/workflows.service';
import { readForm, type BodyRequest } from './page/form-body';
import { setPageHeaders, type HeaderSettable } from './page/html';
import { DECIDE_PATH, INBOX_PATH, SIGN_IN_PATH, SIGN_OUT_PATH, signInPage } from './page/inbox-page';
import { httpErrorOf, PageExceptionFilter } from './page/page-exception.filter';
import { requireSameSite, requireSigningSecret } from './page/page-guards';
import {
  clearSessionCookie,
  csrfMatches,
  flashCookie,
  sessionCookie,
  sessionTokenOf,
  type Flash,
} from './page/session';
import { boundedText } from '../validation/text';

interface PageRequest extends BodyRequest {
  protocol: string;
}
interface PageResponse extends HeaderSettable {
  status(code: number): PageResponse;
  send(body: string): void;
  end(): void;
}

const signInFormSchema = z.object({
  token: z
    .string()
    .min(1, 'enter your API token')
    .max(16 * 1024),
});
const signOutFormSchema = z.object({ csrf: z.string().max(200).optional() });
const decideFormSchema = z.object({
  csrf: z.string().max(200).optional(),
  workflowId: boundedText(1000, { min: 1 }),
  stepId: boundedText(1000, { min: 1 }),
  decision: z.enum(['approve', 'reject']),
  comment: boundedText(10_000).optional(),
  choice: boundedText(100).optional(),
});

const forgedForm = () =>
  new ForbiddenException(
    'the form is stale or was not sent by the approvals page (CSRF check failed); reload the page',
  );

@ApiExcludeController()
@Controller()
@UseFilters(new PageExceptionFilter('inbox', 'always'))
export class InboxPageController {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly auth: AuthOptions,
    @Inject(WorkflowsService) private readonly runs: WorkflowsService,
  ) {}

  private secure(req: PageRequest): boolean {
    return req.protocol === 'https' || (this.auth.publicUrl ?? '').startsWith('https:');
  }

  private redirect(res: PageResponse, cookies: string[]): void {
    res.setHeader('Set-Cookie', cookies);
    res.setHeader('Location', INBOX_PATH);
    res.setHeader('Cache-Control', 'no-store');
    res.status(303).end();
  }

  @Post(SIGN_IN_PATH)
  @Public()
  async signIn(@Req() req: PageRequest, @Res() res: PageResponse): Promise<void> {
    requireSigningSecret(this.auth, 'The approvals page');
    requireSameSite(req, this.auth);
    const { token } = new ZodValidationPipe(signInFormSchema).transform((await readForm(req)) ?? {});
    try {
      await this.auth.verifier.verify(token.trim());
    } catch (err) {
      if (!(err instanceof AuthError) || err.reason === 'unavailable') throw err;
      setPageHeaders(res);
      res.status(401).send(signInPage({ flash: { kind: 'error', message: `Not signed in: ${err.message}` } }));
      return;
    }
    this.redirect(res, [sessionCookie(token.trim(), this.secure(req))]);
  }

  @Post(SIGN_OUT_PATH)
  @Public()
  async signOut(@Req() req: PageRequest, @Res() res: PageResponse): Promise<void> {
    requireSameSite(req, this.auth);
    const session = sessionTokenOf(req);
    const { csrf } = new ZodValidationPipe(signOutFormSchema).transform((await readForm(req)) ?? {});
    if (session && this.auth.signingSecret && !csrfMatches(csrf, session, this.auth.signingSecret)) throw forgedForm();
    const secure = this.secure(req);
    this.redirect(res, [clearSessionCookie(secure), flashCookie({ kind: 'ok', message: 'Signed out.' }, secure)]);
  }

  @Post(DECIDE_PATH)
  @CookieAuth()
  @RequireRole('approver')
  async decide(
    @CurrentIdentity() identity: Identity,
    @Req() req: PageRequest,
    @Res() res: PageResponse,
  ): Promise<void> {
    const secret = requireSigningSecret(this.auth, 'The approvals page');
    requireSameSite(req, this.auth);
    const form = new ZodValidationPipe(decideFormSchema).transform((await readForm(req)) ?? {});
    // The session the page was rendered for: a bearer header alone is not a page's session.
    const session = sessionTokenOf(req);
    if (!session || !csrfMatches(form.csrf, session, secret)) throw forgedForm();
    const body = {
      decision: form.decision,
      ...(form.comment?.trim() ? { comment: form.comment } : {}),
      ...(form.choice ? { choice: form.choice } : {}),
    };
    let flash: Flash;
    try {
      const result = await this.runs.approve(form.workflowId, form.stepId, body, undefined, {
        identity,
        channel: 'api',
      });
      const done = result.decision === 'approve' ? 'Approved' : 'Rejected';
      flash = { kind: 'ok', message: `${done} step "${result.stepId}" of run ${form.workflowId}.` };
    } catch (err) {
      const { status, message } = httpErrorOf(err);
      // What the person can act on goes back to the list; a server fault is the error page's.
      if (status >= 500 && !(err instanceof HttpException)) throw err;
      flash = { kind: 'error', message: `Not decided (${status}): ${message}` };
    }
    this.redirect(res, [flashCookie(flash, this.secure(req))]);
  }
}
