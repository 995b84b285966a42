export { AuthGuard } from './auth.guard';
export type { AuthOptions } from './auth-options';
export { CookieAuth, CurrentIdentity, Public, RequireRole } from './auth.decorators';
export { bearerToken, cookieValue, SESSION_COOKIE } from './bearer';
export { identityOf } from './request-identity';
