/**
 * The inbox page's session: the bearer token a person signed in with, kept in the HttpOnly,
 * SameSite=Strict cookie `agent_session` scoped to /approvals (the guard reads it on
 * @CookieAuth routes), and the CSRF token its forms carry: an HMAC of that token under the
 * session key, so a page's forms work only with the session they were rendered for, and no
 * server-side session state is needed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../../../activities/identity/signing';
import { cookieValue, SESSION_COOKIE } from '../../auth/bearer';

export const COOKIE_PATH = '/approvals';
/** A short-lived cookie carrying the result of the last action to the page it redirects to. */
export const FLASH_COOKIE = 'agent_flash';
/** A signed-in page lives at most this long; the token's own expiry may end it sooner. */
const SESSION_MAX_AGE_S = 12 * 3600;

export interface CookieRequest {
  headers: Record<string, string | string[] | undefined>;
}

export function sessionTokenOf(req: CookieRequest): string | undefined {
  const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
  return token ? token : undefined;
}

export function csrfTokenFor(sessionToken: string, secret: string): string {
  return createHmac('sha256', deriveKey(secret, 'session', 'csrf'))
    .update(sessionToken)
    .digest('base64url');
}

export function csrfMatches(given: unknown, sessionToken: string, secret: string): boolean {
  if (typeof given !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken, secret));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function cookie(name: string, value: string, maxAgeS: number, secure: boolean): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${COOKIE_PATH}`,
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeS}`,
  ];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

export const sessionCookie = (token: string, secure: boolean) =>
  cookie(SESSION_COOKIE, token, SESSION_MAX_AGE_S, secure);
export const clearSessionCookie = (secure: boolean) => cookie(SESSION_COOKIE, '', 0, secure);

export interface Flash {
  kind: 'ok' | 'error';
  message: string;
}

export const flashCookie = (flash: Flash, secure: boolean) =>
  cookie(
    FLASH_COOKIE,
    Buffer.from(JSON.stringify({ kind: flash.kind, message: flash.message.slice(0, 1000) })).toString('base64url'),
    60,
    secure,
  );
export const clearFlashCookie = (secure: boolean) => cookie(FLASH_COOKIE, '', 0, secure);

/** The flash a redirect left; it is shown once (the page clears the cookie). Escaped when rendered. */
export function flashOf(req: CookieRequest): Flash | undefined {
  const raw = cookieValue(req.headers.cookie, FLASH_COOKIE);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Flash>;
    if ((parsed.kind === 'ok' || parsed.kind === 'error') && typeof parsed.message === 'string') {
      return { kind: parsed.kind, message: parsed.message.slice(0, 1000) };
    }
  } catch {
    // A cookie someone edited: no flash.
  }
  return undefined;
}
