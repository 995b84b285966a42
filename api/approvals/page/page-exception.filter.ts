import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ApiExceptionFilter } from '../../temporal/api-exception.filter';
import { temporalErrorToHttp } from '../../temporal/temporal-errors';
import { errorPage, signInPage } from './inbox-page';
import { linkErrorPage } from './link-pages';
import { prefersHtml } from './negotiate';
import { setPageHeaders, type HeaderSettable } from './html';
import { clearFlashCookie, flashOf, sessionTokenOf } from './session';

interface PageResponse extends HeaderSettable {
  status(code: number): PageResponse;
  send(body: string): void;
  headersSent?: boolean;
}

interface PageRequest {
  headers: Record<string, string | string[] | undefined>;
  method: string;
}

/** The status and a one-line message of any error, as the API's JSON filter would answer it. */
export function httpErrorOf(err: unknown): { status: number; message: string } {
  if (err instanceof HttpException) {
    const response = err.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : String((response as { message?: unknown }).message ?? err.message).slice(0, 2000);
    return { status: err.getStatus(), message };
  }
  const mapped = temporalErrorToHttp(err);
  if (mapped) return { status: mapped.statusCode, message: mapped.message };
  return { status: 500, message: 'internal server error' };
}

/**
 * Errors of routes that serve pages: a browser (Accept ranks text/html first; always, for
 * `html: 'always'` routes that only forms reach) gets an HTML page — for the inbox, a 401 is
 * the sign-in form — and any other client the API's JSON error.
 */
@Catch()
export class PageExceptionFilter implements ExceptionFilter {
  private readonly json = new ApiExceptionFilter();
  private readonly logger = new Logger('PageExceptionFilter');

  constructor(
    private readonly kind: 'inbox' | 'link',
    private readonly html: 'negotiate' | 'always' = 'negotiate',
  ) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<PageRequest>();
    const res = host.switchToHttp().getResponse<PageResponse>();
    if (res.headersSent) return;
    if (this.html === 'negotiate' && !prefersHtml(req.headers.accept)) return this.json.catch(err, host);
    const { status, message } = httpErrorOf(err);
    if (status >= 500 && !(err instanceof HttpException)) {
      this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    setPageHeaders(res);
    let body: string;
    if (this.kind === 'link') body = linkErrorPage(status, message);
    else if (status === 401) {
      // After sign-out the redirect lands here: its flash says so.
      const flash = flashOf(req);
      if (flash) res.setHeader('Set-Cookie', clearFlashCookie(false));
      body = signInPage(flash ? { flash } : signInReason(req, message));
    } else body = errorPage(status, message);
    res.status(status).send(body);
  }
}

/** A first visit is not an error: only say why when a token was presented and refused. */
function signInReason(req: PageRequest, message: string): Parameters<typeof signInPage>[0] {
  const presented = req.headers.authorization !== undefined || sessionTokenOf(req) !== undefined;
  return presented
    ? { flash: { kind: 'error', message: `Sign in again: ${message}` } }
    : { status: 'Sign in with your API token to see the approvals waiting for you.' };
}
