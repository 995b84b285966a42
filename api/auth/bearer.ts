/** Name of the HttpOnly cookie holding the token for pages (see @CookieAuth). */
export const SESSION_COOKIE = 'agent_session';

/**
 * The token of an `Authorization: Bearer <token>` header: undefined when there is no header,
 * null when there is one of another scheme or shape.
 */
export function bearerToken(header: string | string[] | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) return null;
  const match = /^Bearer[ ]+([\x21-\x7E]+)[ ]*$/i.exec(header);
  return match ? (match[1] as string) : null;
}

/** A cookie's value from a Cookie header (URL-decoded); undefined when absent or not decodable. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
