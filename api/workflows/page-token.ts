/**
 * The page tokens GET /workflows hands out: Temporal's opaque token, sealed with a checksum over
 * it and the filter it pages through. A token that was never handed out (or belongs to another
 * filter) is refused as a 400 before it reaches Temporal, which would answer it with an internal
 * error (and the client's retries) rather than a clear "bad token". Not a secret: a checksum.
 */
import { createHash } from 'node:crypto';

const CHECK_LENGTH = 16;
export const PAGE_TOKEN_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,8192}\\.[A-Za-z0-9_-]{${CHECK_LENGTH}}$`);

function check(serverToken: Uint8Array, filter: string): string {
  return createHash('sha256')
    .update(filter)
    .update('\n')
    .update(serverToken)
    .digest('base64url')
    .slice(0, CHECK_LENGTH);
}

export function sealPageToken(serverToken: Uint8Array, filter: string): string {
  return `${Buffer.from(serverToken).toString('base64url')}.${check(serverToken, filter)}`;
}

/** The server's token inside `token`, or undefined when this listing did not hand it out. */
export function openPageToken(token: string, filter: string): Uint8Array | undefined {
  const dot = token.lastIndexOf('.');
  if (dot < 0) return undefined;
  const serverToken = Buffer.from(token.slice(0, dot), 'base64url');
  return serverToken.length > 0 && check(serverToken, filter) === token.slice(dot + 1) ? serverToken : undefined;
}
