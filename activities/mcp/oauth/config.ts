/**
 * The `auth` key of an HTTP server in `.mcp.json`: OAuth 2.1 through the MCP SDK's client auth.
 * Secrets are named, never written: `clientSecretEnv` names an environment variable.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { formatKey, type ConfigProblem } from '../config/keys';

export const OAUTH_GRANTS = ['client_credentials', 'authorization_code'] as const;
export type OAuthGrant = (typeof OAUTH_GRANTS)[number];

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const oauthEntrySchema = z.strictObject({
  type: z.literal('oauth', { error: 'must be "oauth"' }),
  grant: z.enum(OAUTH_GRANTS, { error: `must be one of ${OAUTH_GRANTS.join(', ')}` }),
  /** Absent with authorization_code: the client registers itself (dynamic client registration). */
  clientId: z.string().min(1, 'must be a non-empty string').optional(),
  clientSecretEnv: z
    .string()
    .regex(ENV_NAME_RE, 'must be the name of an environment variable (letters, digits, "_")')
    .optional(),
  /** private_key_jwt instead of a secret: the variable holding the client's PKCS#8 PEM private key. */
  privateKeyEnv: z
    .string()
    .regex(ENV_NAME_RE, 'must be the name of an environment variable (letters, digits, "_")')
    .optional(),
  /** The key's JWS algorithm (default RS256). */
  signingAlgorithm: z
    .enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'])
    .optional(),
  scope: z.string().min(1, 'must be a non-empty string').optional(),
  /** authorization_code: where the login script listens (a loopback http URL); default: 127.0.0.1, a free port. */
  redirectUrl: z.string().min(1, 'must be a non-empty string').optional(),
  clientName: z.string().min(1, 'must be a non-empty string').optional(),
  /** An https URL of a client metadata document, used as client_id where the server supports it. */
  clientMetadataUrl: z.string().min(1, 'must be a non-empty string').optional(),
  /**
   * authorization_code only: the worker follows the authorization URL itself and takes the code
   * from the redirect, for authorization servers that approve without a person (test and
   * conformance servers). Never for a real login page.
   */
  headless: z.boolean().optional(),
});

export type OAuthEntry = z.infer<typeof oauthEntrySchema>;

/** One server's OAuth settings after validation; the secret is read through `clientSecret()` only. */
export interface OAuthConfig {
  grant: OAuthGrant;
  clientId?: string;
  clientSecretEnv?: string;
  privateKeyEnv?: string;
  signingAlgorithm: string;
  scope?: string;
  redirectUrl?: string;
  clientName?: string;
  clientMetadataUrl?: string;
  headless: boolean;
  /** Where this server's tokens and registration live (outside the repository, mode 0600). */
  tokenFile: string;
  /** The secret from the environment the config was loaded with; a function so it is never serialized or logged. */
  clientSecret: () => string | undefined;
  /** The private key for private_key_jwt, likewise. */
  privateKey: () => string | undefined;
}

/** `$MCP_OAUTH_DIR`, else `$XDG_CONFIG_HOME/durable-agents/mcp-oauth`, else `~/.config/durable-agents/mcp-oauth`. */
export function oauthDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.MCP_OAUTH_DIR) return path.resolve(env.MCP_OAUTH_DIR);
  const configHome = env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(configHome, 'durable-agents', 'mcp-oauth');
}

function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** Checks what the schema cannot (which fields a grant needs, URLs, the secret's variable) and resolves the rest. */
export function resolveOAuthConfig(
  server: string,
  entry: OAuthEntry,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
): OAuthConfig {
  const key = (field: string) => formatKey(['mcpServers', server, 'auth', field]);
  if (entry.grant === 'client_credentials') {
    if (!entry.clientId)
      problems.push({ key: key('clientId'), message: 'missing: client_credentials needs "clientId"' });
    if (!entry.clientSecretEnv && !entry.privateKeyEnv)
      problems.push({
        key: key('clientSecretEnv'),
        message:
          'missing: client_credentials needs "clientSecretEnv" (the environment variable holding the secret) or "privateKeyEnv"',
      });
    if (entry.headless) problems.push({ key: key('headless'), message: 'applies to authorization_code only' });
  }
  if (entry.clientSecretEnv && entry.privateKeyEnv)
    problems.push({ key: key('privateKeyEnv'), message: 'a client uses a secret or a private key, not both' });
  for (const field of ['clientSecretEnv', 'privateKeyEnv'] as const) {
    const name = entry[field];
    if (name && !entry.clientId)
      problems.push({ key: key('clientId'), message: `missing: "${field}" belongs to a "clientId"` });
    if (name && !env[name]) problems.push({ key: key(field), message: `environment variable ${name} is not set` });
  }
  if (entry.redirectUrl) {
    const url = URL.canParse(entry.redirectUrl) ? new URL(entry.redirectUrl) : undefined;
    if (!url || (!entry.headless && !isLoopbackHttp(url)))
      problems.push({
        key: key('redirectUrl'),
        message: `"${entry.redirectUrl}" is not a loopback http URL (http://127.0.0.1:<port>/<path>) the login script can listen on`,
      });
  }
  if (entry.clientMetadataUrl && !/^https:\/\/[^/]+\/./.test(entry.clientMetadataUrl))
    problems.push({ key: key('clientMetadataUrl'), message: 'must be an https URL with a path' });
  const secret = entry.clientSecretEnv ? env[entry.clientSecretEnv] : undefined;
  const privateKey = entry.privateKeyEnv ? env[entry.privateKeyEnv] : undefined;
  return {
    grant: entry.grant,
    clientId: entry.clientId,
    clientSecretEnv: entry.clientSecretEnv,
    privateKeyEnv: entry.privateKeyEnv,
    signingAlgorithm: entry.signingAlgorithm ?? 'RS256',
    scope: entry.scope,
    redirectUrl: entry.redirectUrl,
    clientName: entry.clientName,
    clientMetadataUrl: entry.clientMetadataUrl,
    headless: entry.headless ?? false,
    tokenFile: path.join(oauthDir(env), `${server}.json`),
    clientSecret: () => secret,
    privateKey: () => privateKey,
  };
}
