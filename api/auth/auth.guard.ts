import {
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthError } from '../../activities/identity/token-verifier';
import { hasRole, type Role } from '../../workflows/contracts/identity';
import { AUTH_OPTIONS } from '../tokens';
import { COOKIE_AUTH_KEY, PUBLIC_KEY, REQUIRED_ROLE_KEY } from './auth.decorators';
import type { AuthOptions } from './auth-options';
import { bearerToken, cookieValue, SESSION_COOKIE } from './bearer';
import { setIdentity, type AuthRequest } from './request-identity';

interface HeaderSettable {
  setHeader(name: string, value: string): unknown;
}

const REALM = 'durable-agents';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every route needs a bearer token unless it is @Public: 401 (with WWW-Authenticate) without a
 * valid one, 403 when its identity lacks the route's role (@RequireRole; viewer by default).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true;
    const cookieAuth = this.reflector.getAllAndOverride<boolean>(COOKIE_AUTH_KEY, targets) === true;
    const role = this.reflector.getAllAndOverride<Role>(REQUIRED_ROLE_KEY, targets) ?? 'viewer';
    const req = context.switchToHttp().getRequest<AuthRequest>();
    const res = context.switchToHttp().getResponse<HeaderSettable>();

    const fromHeader = bearerToken(req.headers.authorization);
    const fromCookie =
      cookieAuth && fromHeader === undefined ? cookieValue(req.headers.cookie, SESSION_COOKIE) : undefined;
    // null (a header of another shape) must not fall through to the cookie.
    const token = fromHeader !== undefined ? fromHeader : fromCookie;
    if (isPublic) {
      // A public route still learns who calls when a valid token comes along (e.g. a sign-in page).
      if (token)
        await this.options.verifier.verify(token).then(
          (id) => setIdentity(req, id),
          () => undefined,
        );
      return true;
    }
    if (token === undefined) throw this.unauthorized(res, 'a bearer token is required (Authorization: Bearer <token>)');
    if (token === null) {
      throw this.unauthorized(res, 'the Authorization header must be "Bearer <token>"', 'invalid_request');
    }
    let identity;
    try {
      identity = await this.options.verifier.verify(token);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      if (err.reason === 'unavailable')
        throw new ServiceUnavailableException(`cannot verify tokens now: ${err.message}`);
      throw this.unauthorized(res, err.message, 'invalid_token');
    }
    if (fromCookie !== undefined && !SAFE_METHODS.has(req.method.toUpperCase())) this.requireSameOrigin(req);
    setIdentity(req, identity);
    if (!hasRole(identity, role)) {
      const held = identity.roles.length > 0 ? `holds ${identity.roles.join(', ')}` : 'holds no role';
      throw new ForbiddenException(`"${identity.user}" ${held}; this needs the ${role} role`);
    }
    return true;
  }

  private unauthorized(res: HeaderSettable, message: string, error?: string): HttpException {
    const params = [`realm="${REALM}"`, ...(error ? [`error="${error}"`] : [])];
    res.setHeader('WWW-Authenticate', `Bearer ${params.join(', ')}`);
    return new UnauthorizedException(message);
  }

  /**
   * A cookie rides along on requests other sites trigger: a state-changing request authenticated
   * by it must come from a page of this API (SameSite on the cookie is the first line).
   */
  private requireSameOrigin(req: AuthRequest): void {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return;
    const allowed = new Set<string>();
    if (typeof req.headers.host === 'string') allowed.add(req.headers.host.toLowerCase());
    if (this.options.publicUrl) allowed.add(new URL(this.options.publicUrl).host.toLowerCase());
    let host: string;
    try {
      host = new URL(origin).host.toLowerCase();
    } catch {
      host = '';
    }
    if (!allowed.has(host)) throw new ForbiddenException('a request authenticated by cookie must come from this site');
  }
}
