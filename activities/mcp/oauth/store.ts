/**
 * One MCP server's OAuth state on disk: tokens, the client registration, the redirect URL the
 * login used. The file is private to the user (0600, in a 0700 folder) and replaced atomically
 * (write a temporary file, then rename), so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export interface StoredTokens extends OAuthTokens {
  /** When the tokens were received (ms since epoch), to tell how old they are. */
  obtained_at?: number;
}

export interface StoredOAuthState {
  /** The MCP server URL the state belongs to; state saved for another URL is ignored. */
  url: string;
  tokens?: StoredTokens;
  client?: OAuthClientInformationMixed;
  redirectUrl?: string;
}

export class OAuthStore {
  private cached?: { key: string; state: StoredOAuthState };

  constructor(
    readonly file: string,
    readonly url: string,
  ) {}

  /** The stored state, or an empty one; read again only when the file changed (a login in another process). */
  read(): StoredOAuthState {
    let stat;
    try {
      stat = statSync(this.file);
    } catch {
      return { url: this.url };
    }
    // Every write renames a new file into place: a new inode, and new times.
    const key = `${stat.ino}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.size}`;
    if (this.cached?.key === key) return this.cached.state;
    let state: StoredOAuthState;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as StoredOAuthState;
      state = parsed && typeof parsed === 'object' && parsed.url === this.url ? parsed : { url: this.url };
    } catch {
      state = { url: this.url };
    }
    this.cached = { key, state };
    return state;
  }

  update(change: (state: StoredOAuthState) => StoredOAuthState): StoredOAuthState {
    const next = change({ ...this.read() });
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify({ ...next, url: this.url }, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    this.cached = undefined;
    return next;
  }
}
