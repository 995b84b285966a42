/**
 * Turns a bearer token into an Identity: a JWT (three base64url parts) is verified with jose
 * against the configured keys, issuer and audience; anything else is looked up among the static
 * tokens by SHA-256 in constant time. Used by the API's guard and by the worker activity that
 * checks the token inside an `approve` signal.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { ROLES, type Identity, type Role } from '../../workflows/contracts/identity';
import { sha256, type AuthConfig, type JwtSettings, type StaticToken } from './auth-config';

/**
 * Why a token was refused. `unavailable`: the keys could not be fetched (JWKS URL down), which
 * says nothing about the token; the API answers 503 for it rather than 401.
 */
export type AuthFailureReason = 'missing' | 'malformed' | 'unknown' | 'expired' | 'invalid' | 'unavailable';

export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface TokenVerifier {
  /** The identity a token stands for; throws AuthError when it stands for none. */
  verify(token: string): Promise<Identity>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Longer than any token we would accept: not hashed, not parsed. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const jwt = config.jwt && jwtVerifier(config.jwt);
  const staticTokens = config.staticTokens;
  return {
    async verify(token: string): Promise<Identity> {
      if (token.length === 0) throw new AuthError('missing', 'a bearer token is required');
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('malformed', 'the bearer token is too long');
      if (jwt && JWT_SHAPE.test(token)) return jwt(token);
      const identity = lookUpStatic(staticTokens, token);
      if (!identity) throw new AuthError('unknown', 'the bearer token is not known');
      return identity;
    },
  };
}

/** Compares with every entry, matching or not, so timing says nothing about which one matched. */
function lookUpStatic(tokens: readonly StaticToken[], token: string): Identity | undefined {
  const presented = sha256(token);
  let found: Identity | undefined;
  for (const entry of tokens) {
    if (timingSafeEqual(entry.tokenSha256, presented) && !found) found = entry.identity;
  }
  return found && { user: found.user, groups: [...found.groups], roles: [...found.roles] };
}

function jwtVerifier(settings: JwtSettings): (token: string) => Promise<Identity> {
  const keys: JWTVerifyGetKey =
    settings.jwks.kind === 'file'
      ? createLocalJWKSet(settings.jwks.keySet as unknown as JSONWebKeySet)
      : createRemoteJWKSet(settings.jwks.url);
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: settings.issuers,
        audience: settings.audiences,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw joseFailure(err);
    }
    return identityOf(payload, settings.claims);
  };
}

function joseFailure(err: unknown): AuthError {
  if (err instanceof joseErrors.JWTExpired) return new AuthError('expired', 'the token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new AuthError('invalid', `the token's "${err.claim}" claim is not accepted (${err.reason})`);
  }
  // A JWKS URL that times out, answers other than 200 (a generic JOSEError) or not a key set.
  const generic = err instanceof joseErrors.JOSEError && err.code === joseErrors.JOSEError.code;
  if (generic || err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) {
    return new AuthError('unavailable', `the signing keys could not be loaded: ${err.message}`);
  }
  if (err instanceof joseErrors.JOSEError) {
    if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
      return new AuthError('malformed', `the token is not a valid JWT: ${err.message}`);
    }
    // Bad signature, unknown key id, an algorithm the key does not allow.
    return new AuthError('invalid', `the token's signature is not valid: ${err.message}`);
  }
  // A remote JWKS fetch failing (network, HTTP status) surfaces as a plain error.
  return new AuthError('unavailable', `the signing keys could not be loaded: ${(err as Error)?.message ?? err}`);
}

/** A claim by name, or by dotted path into nested objects (`realm_access.roles`). */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let current: unknown = payload;
  for (const part of name.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** A list claim: an array of strings, or one space-separated string (as `scope` is). */
function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

function identityOf(payload: JWTPayload, claims: JwtSettings['claims']): Identity {
  const user = claim(payload, claims.user);
  if (typeof user !== 'string' || user.length === 0) {
    throw new AuthError('invalid', `the token has no "${claims.user}" claim naming the user`);
  }
  // Roles this API does not define are ignored; a token left with none is refused later (403).
  const roles = stringList(claim(payload, claims.roles)).filter((r): r is Role =>
    (ROLES as readonly string[]).includes(r),
  );
  return { user, groups: [...new Set(stringList(claim(payload, claims.groups)))], roles: [...new Set(roles)] };
}
