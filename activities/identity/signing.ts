/**
 * The server's signing secret (SIGNING_SECRET, or the file SIGNING_SECRET_FILE names) and the
 * keys derived from it, one per purpose, so a key leaked from one use signs nothing else. Shared
 * by the API (approval links, signal tokens) and the orchestrator worker (webhook signatures, links in
 * deliveries, signal tokens). Never logged, never in history.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/config-errors';

export type SigningPurpose = 'approval-link' | 'approval-signal' | 'webhook' | 'session';

/** At least 32 bytes of secret: a random 32-byte value in hex or base64 is the usual form. */
export const MIN_SECRET_LENGTH = 32;

/** The signing secret from the environment, or undefined when none is configured. */
export function loadSigningSecret(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.SIGNING_SECRET_FILE;
  const secret = env.SIGNING_SECRET ?? (file ? readSecretFile(file) : undefined);
  if (secret === undefined) return undefined;
  if (secret.length < MIN_SECRET_LENGTH) {
    const key = env.SIGNING_SECRET !== undefined ? 'SIGNING_SECRET' : 'SIGNING_SECRET_FILE';
    throw new ConfigError('environment', [{ key, message: `must hold at least ${MIN_SECRET_LENGTH} characters` }]);
  }
  return secret;
}

function readSecretFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError('environment', [{ key: 'SIGNING_SECRET_FILE', message: `cannot be read (${reason})` }]);
  }
}

/** The key for one purpose (and, for webhooks, one subscription): HMAC-SHA256(secret, label). */
export function deriveKey(secret: string, purpose: SigningPurpose, label = ''): Buffer {
  return createHmac('sha256', secret).update(`durable-agents/${purpose}/${label}`).digest();
}
