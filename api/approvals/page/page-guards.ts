/** Checks the page routes share: a signing secret configured, requests from this site. */
import { ForbiddenException, ServiceUnavailableException } from '@nestjs/common';
import type { AuthOptions } from '../../auth/auth-options';

/** The secret that signs links and page sessions; without one these features answer 503. */
export function requireSigningSecret(auth: AuthOptions, what: string): string {
  if (!auth.signingSecret) {
    throw new ServiceUnavailableException(
      `${what} needs a signing secret: set SIGNING_SECRET (or SIGNING_SECRET_FILE) to at least 32 random characters and restart the API`,
    );
  }
  return auth.signingSecret;
}

export interface SiteRequest {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A form post must come from this site: a browser says whose page sent it (Sec-Fetch-Site, or
 * else Origin). Clients that send neither (curl) are not browsers, so no other site can make
 * them post.
 */
export function requireSameSite(req: SiteRequest, auth: AuthOptions): void {
  const refused = () => new ForbiddenException('this form must be posted from the approvals page of this site');
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') {
    if (site === 'same-origin' || site === 'none') return;
    throw refused();
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const allowed = new Set<string>();
  if (typeof req.headers.host === 'string') allowed.add(req.headers.host.toLowerCase());
  if (auth.publicUrl) allowed.add(new URL(auth.publicUrl).host.toLowerCase());
  let host = '';
  try {
    host = typeof origin === 'string' && origin !== 'null' ? new URL(origin).host.toLowerCase() : '';
  } catch {
    // not a URL: refused below
  }
  if (!allowed.has(host)) throw refused();
}
