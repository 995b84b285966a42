/**
 * What `npm start` needs to serve an authenticated API out of the box: a static tokens file with
 * one local admin, that admin's token in a file only its owner can read, and a signing secret.
 * Created once (in `.data/auth/` by default) and reused; settings the user gave win.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface LocalAuth {
  /** Variables to add to every child's environment (only those the user did not set). */
  env: Record<string, string>;
  /** The local admin's token file, when we manage the tokens file. */
  adminTokenFile?: string;
  /** What was created now (for the log). */
  created: string[];
}

export const LOCAL_ADMIN_USER = 'admin';
/**
 * The approver groups the example specs name (examples/*.spec.yaml), so the README's approvals
 * work as the local admin; `approvers` binds admins too. Edit tokens.json to change them.
 */
export const LOCAL_ADMIN_GROUPS = ['release-managers', 'firmware-leads'];

/** Writes `text` to `file` (mode 600) through a rename, so a crash never leaves half a file. */
function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

export function ensureLocalAuth(env: NodeJS.ProcessEnv, dir: string): LocalAuth {
  const result: LocalAuth = { env: {}, created: [] };
  const ownIdentities = env.AUTH_TOKENS_FILE || env.AUTH_JWKS_FILE || env.AUTH_JWKS_URL;
  const ownSecret = env.SIGNING_SECRET || env.SIGNING_SECRET_FILE;
  if (ownIdentities && ownSecret) return result;
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  if (!ownIdentities) {
    const tokensFile = path.join(dir, 'tokens.json');
    const adminTokenFile = path.join(dir, 'admin-token');
    if (!existsSync(tokensFile)) {
      const token = randomBytes(32).toString('hex');
      // The token first: a crash between the two leaves a token file that the next start replaces.
      writePrivate(adminTokenFile, `${token}\n`);
      const tokenSha256 = createHash('sha256').update(token).digest('hex');
      const entries = [{ tokenSha256, user: LOCAL_ADMIN_USER, groups: LOCAL_ADMIN_GROUPS, roles: ['admin'] }];
      writePrivate(tokensFile, `${JSON.stringify(entries, null, 2)}\n`);
      result.created.push(tokensFile, adminTokenFile);
    }
    result.env.AUTH_TOKENS_FILE = tokensFile;
    if (existsSync(adminTokenFile)) result.adminTokenFile = adminTokenFile;
  }

  if (!ownSecret) {
    const secretFile = path.join(dir, 'signing-secret');
    if (!existsSync(secretFile)) {
      writePrivate(secretFile, `${randomBytes(32).toString('hex')}\n`);
      result.created.push(secretFile);
    }
    result.env.SIGNING_SECRET_FILE = secretFile;
  }
  return result;
}
