import { createParamDecorator, SetMetadata, applyDecorators, type ExecutionContext } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Identity, Role } from '../../workflows/contracts/identity';
import { identityOf } from './request-identity';

export const REQUIRED_ROLE_KEY = 'auth:requiredRole';
export const PUBLIC_KEY = 'auth:public';
export const COOKIE_AUTH_KEY = 'auth:cookie';

/** OpenAPI extensions the document post-processing (openapi/security.ts) turns into security and responses. */
export const REQUIRED_ROLE_EXTENSION = 'x-required-role';
export const PUBLIC_EXTENSION = 'x-public';
export const COOKIE_AUTH_EXTENSION = 'x-cookie-auth';

/** The role a route (method) or every route of a controller (class) needs; without it: viewer. */
export const RequireRole = (role: Role) =>
  applyDecorators(SetMetadata(REQUIRED_ROLE_KEY, role), ApiExtension(REQUIRED_ROLE_EXTENSION, role));

/** No token needed (liveness probes, sign-in pages). */
export const Public = () => applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension(PUBLIC_EXTENSION, true));

/**
 * The route also accepts the token from the HttpOnly cookie `agent_session` (the inbox page),
 * when no Authorization header is sent.
 */
export const CookieAuth = () =>
  applyDecorators(SetMetadata(COOKIE_AUTH_KEY, true), ApiExtension(COOKIE_AUTH_EXTENSION, true));

/** The caller's Identity, as the guard verified it (a @Public route without a token: undefined). */
export const CurrentIdentity = createParamDecorator((_data: unknown, ctx: ExecutionContext): Identity | undefined =>
  identityOf(ctx.switchToHttp().getRequest()),
);
