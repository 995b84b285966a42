/**
 * Where identities come from, read from the environment once at start-up: a static tokens file
 * for small teams (AUTH_TOKENS_FILE) and/or JWTs signed by keys from a JWKS file or URL
 * (AUTH_JWKS_FILE / AUTH_JWKS_URL, with AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE). Plain data: the
 * verifier (token-verifier.ts) is built from it. Tokens themselves are never kept, only SHA-256s.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../config/config-errors';
import { ROLES, type Identity } from '../../workflows/contracts/identity';

export interface StaticToken {
  /** SHA-256 of the token (32 bytes): compared in constant time with the presented token's. */
  tokenSha256: Buffer;
  identity: Identity;
}

export interface JwtSettings {
  /** A JWKS file read at start-up, or a URL fetched (and cached) by jose. */
  jwks: { kind: 'file'; file: string; keySet: JsonWebKeySet } | { kind: 'url'; url: URL };
  /** Accepted `iss` values (AUTH_JWT_ISSUER, comma-separated). */
  issuers: string[];
  /** Accepted `aud` values (AUTH_JWT_AUDIENCE, comma-separated). */
  audiences: string[];
  /** Claim names (a dotted path such as `realm_access.roles` reaches into objects). */
  claims: { user: string; groups: string; roles: string };
}

export interface JsonWebKeySet {
  keys: Array<Record<string, unknown>>;
}

export interface AuthConfig {
  staticTokens: StaticToken[];
  /** Where the static tokens came from, for messages. */
  staticTokensFile?: string;
  jwt?: JwtSettings;
}

/** The keys that configure a source of identities; with none of them set no token is accepted. */
export const AUTH_SOURCE_KEYS = ['AUTH_TOKENS_FILE', 'AUTH_JWKS_FILE', 'AUTH_JWKS_URL'] as const;

const SHA256_HEX = /^[0-9a-f]{64}$/i;
/** Short static tokens are guessable; 16 characters is a floor, 32 random bytes (hex) the advice. */
const MIN_STATIC_TOKEN_LENGTH = 16;

const nameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

const staticEntrySchema = z
  .strictObject({
    token: z
      .string()
      .min(MIN_STATIC_TOKEN_LENGTH, `must hold at least ${MIN_STATIC_TOKEN_LENGTH} characters`)
      .optional(),
    tokenSha256: z.string().regex(SHA256_HEX, "must be the 64 hex digits of the token's SHA-256").optional(),
    user: nameSchema,
    groups: z.array(nameSchema).default([]),
    roles: z.array(z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` })).min(1, 'give at least one role'),
  })
  .superRefine((entry, ctx) => {
    if ((entry.token === undefined) === (entry.tokenSha256 === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'give exactly one of token or tokenSha256' });
    }
  });

const staticFileSchema = z.array(staticEntrySchema);

const listOf = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const envSchema = z
  .object({
    AUTH_TOKENS_FILE: z.string().min(1, 'must be a file path').optional(),
    AUTH_JWKS_FILE: z.string().min(1, 'must be a file path').optional(),
    AUTH_JWKS_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    AUTH_JWT_ISSUER: z.string().optional(),
    AUTH_JWT_AUDIENCE: z.string().optional(),
    AUTH_USER_CLAIM: z.string().min(1, 'must be a claim name').default('sub'),
    AUTH_GROUPS_CLAIM: z.string().min(1, 'must be a claim name').default('groups'),
    AUTH_ROLES_CLAIM: z.string().min(1, 'must be a claim name').default('roles'),
  })
  .superRefine((env, ctx) => {
    if (env.AUTH_JWKS_FILE !== undefined && env.AUTH_JWKS_URL !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWKS_URL'],
        message: 'give AUTH_JWKS_FILE or AUTH_JWKS_URL, not both',
      });
    }
    const jwks = env.AUTH_JWKS_FILE !== undefined || env.AUTH_JWKS_URL !== undefined;
    for (const key of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE'] as const) {
      if (jwks && listOf(env[key] ?? '').length === 0) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'is required with AUTH_JWKS_FILE or AUTH_JWKS_URL' });
      }
    }
  });

/**
 * The auth settings in `env`. Sources not configured are simply absent: the API refuses to start
 * without any (see requireAuthSource); a worker without any refuses every token it is shown.
 */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      'environment',
      result.error.issues.map((i) => ({ key: i.path.map(String).join('.') || '(auth)', message: i.message })),
    );
  }
  const parsed = result.data;
  const config: AuthConfig = { staticTokens: [] };
  if (parsed.AUTH_TOKENS_FILE !== undefined) {
    config.staticTokensFile = path.resolve(parsed.AUTH_TOKENS_FILE);
    config.staticTokens = readStaticTokens(config.staticTokensFile);
  }
  const claims = { user: parsed.AUTH_USER_CLAIM, groups: parsed.AUTH_GROUPS_CLAIM, roles: parsed.AUTH_ROLES_CLAIM };
  const issuers = listOf(parsed.AUTH_JWT_ISSUER ?? '');
  const audiences = listOf(parsed.AUTH_JWT_AUDIENCE ?? '');
  if (parsed.AUTH_JWKS_FILE !== undefined) {
    const file = path.resolve(parsed.AUTH_JWKS_FILE);
    config.jwt = { jwks: { kind: 'file', file, keySet: readJwksFile(file) }, issuers, audiences, claims };
  } else if (parsed.AUTH_JWKS_URL !== undefined) {
    config.jwt = { jwks: { kind: 'url', url: new URL(parsed.AUTH_JWKS_URL) }, issuers, audiences, claims };
  }
  return config;
}

/** Throws the ConfigError the API starts with when no source of identities is configured. */
export function requireAuthSource(config: AuthConfig): void {
  if (config.staticTokensFile !== undefined || config.jwt !== undefined) return;
  throw new ConfigError('environment', [
    {
      key: 'AUTH_TOKENS_FILE',
      message:
        'every API route needs a bearer token: set AUTH_TOKENS_FILE (static tokens) and/or AUTH_JWKS_FILE or ' +
        'AUTH_JWKS_URL with AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE (JWTs)',
    },
  ]);
}

/** SHA-256 of a token, as stored in `tokenSha256` (hex) and compared (bytes). */
export function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function readJson(file: string, key: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError('environment', [{ key, message: `cannot read ${file} (${reason})` }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError('environment', [{ key, message: `${file} is not JSON (${(err as Error).message})` }]);
  }
}

function readStaticTokens(file: string): StaticToken[] {
  const result = staticFileSchema.safeParse(readJson(file, 'AUTH_TOKENS_FILE'));
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((i) => ({
        key: i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') || '(file)',
        message:
          i.path.length === 0 ? 'must be a JSON list of { token or tokenSha256, user, groups, roles }' : i.message,
      })),
    );
  }
  const seen = new Set<string>();
  return result.data.map((entry, index) => {
    const hash =
      entry.tokenSha256 !== undefined ? Buffer.from(entry.tokenSha256, 'hex') : sha256(entry.token as string);
    const hex = hash.toString('hex');
    // Two users with one token would make the token's identity depend on file order.
    if (seen.has(hex))
      throw new ConfigError(file, [{ key: `[${index}]`, message: 'repeats the token of an earlier entry' }]);
    seen.add(hex);
    return {
      tokenSha256: hash,
      identity: { user: entry.user, groups: [...new Set(entry.groups)], roles: [...new Set(entry.roles)] },
    };
  });
}

function readJwksFile(file: string): JsonWebKeySet {
  const json = readJson(file, 'AUTH_JWKS_FILE');
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => k !== null && typeof k === 'object')) {
    throw new ConfigError('environment', [
      { key: 'AUTH_JWKS_FILE', message: `${file} must be a JWK set: { "keys": [ { "kty": ... }, ... ] }` },
    ]);
  }
  return { keys: keys as Array<Record<string, unknown>> };
}
