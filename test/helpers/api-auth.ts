/**
 * Real auth for tests: a static tokens file in a temp dir (removed at exit) with one user per
 * role and two approvers who differ by group, the verifier the API uses, and headers to send.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAuthConfig } from '../../activities/identity/auth-config';
import { createTokenVerifier, type TokenVerifier } from '../../activities/identity/token-verifier';
import type { AuthOptions } from '../../api/auth/auth-options';
import type { Identity, Role } from '../../workflows/contracts/identity';

export const TEST_USERS = {
  admin: { roles: ['admin'], groups: [] },
  operator: { roles: ['operator'], groups: [] },
  approver: { roles: ['approver'], groups: [] },
  viewer: { roles: ['viewer'], groups: [] },
  ana: { roles: ['approver'], groups: ['release-managers'] },
  mallory: { roles: ['approver'], groups: [] },
} satisfies Record<string, { roles: Role[]; groups: string[] }>;

export type TestUser = keyof typeof TEST_USERS;

export interface TestAuth {
  /** For createApp({ auth }). */
  auth: AuthOptions & { verifier: TokenVerifier; signingSecret: string };
  /** Each user's bearer token. */
  tokens: Record<TestUser, string>;
  /** `{ authorization: 'Bearer <token>' }` for a user. */
  header(user: TestUser): { authorization: string };
  identity(user: TestUser): Identity;
  /** The static tokens file (for workers: AUTH_TOKENS_FILE) and the env that names it and the secret. */
  tokensFile: string;
  env: { AUTH_TOKENS_FILE: string; SIGNING_SECRET: string };
}

const dirs: string[] = [];
let cleanupRegistered = false;

export function testAuth(): TestAuth {
  const dir = mkdtempSync(path.join(tmpdir(), 'api-auth-'));
  dirs.push(dir);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.once('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  }
  const tokens = Object.fromEntries(
    Object.keys(TEST_USERS).map((user) => [user, `${user}-${randomBytes(24).toString('hex')}`]),
  ) as Record<TestUser, string>;
  // Half the entries as the file's hashed form, so both forms are exercised.
  const entries = Object.entries(TEST_USERS).map(([user, { roles, groups }], i) => ({
    ...(i % 2 === 0
      ? { token: tokens[user as TestUser] }
      : {
          tokenSha256: createHash('sha256')
            .update(tokens[user as TestUser])
            .digest('hex'),
        }),
    user,
    groups,
    roles,
  }));
  const tokensFile = path.join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(entries, null, 2), { mode: 0o600 });
  const signingSecret = randomBytes(32).toString('hex');
  const verifier = createTokenVerifier(loadAuthConfig({ AUTH_TOKENS_FILE: tokensFile }));
  return {
    auth: { verifier, signingSecret },
    tokens,
    header: (user) => ({ authorization: `Bearer ${tokens[user]}` }),
    identity: (user) => ({ user, groups: [...TEST_USERS[user].groups], roles: [...TEST_USERS[user].roles] }),
    tokensFile,
    env: { AUTH_TOKENS_FILE: tokensFile, SIGNING_SECRET: signingSecret },
  };
}
