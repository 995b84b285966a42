/**
 * The `.mcp.json` entry the conformance client writes for a scenario's server: what an operator
 * would configure for that remote Streamable HTTP server, using only the documented keys (the
 * worker reads the same file format). Every server may ask for input and is told a root; the
 * `auth/*` scenarios add the OAuth settings the scenario calls for.
 */

/** The client id the suite's CIMD scenario expects a client metadata document at. */
export const CONFORMANCE_CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';
/** The variable a client secret from MCP_CONFORMANCE_CONTEXT is passed in (config names variables, never secrets). */
export const SECRET_ENV = 'CONFORMANCE_CLIENT_SECRET';
/** Likewise for a private key (private_key_jwt). */
export const PRIVATE_KEY_ENV = 'CONFORMANCE_CLIENT_PRIVATE_KEY';

/** What the suite passes in MCP_CONFORMANCE_CONTEXT for the scenarios that need credentials. */
export interface ScenarioContext {
  client_id?: string;
  client_secret?: string;
  private_key_pem?: string;
  signing_algorithm?: string;
}

export interface ScenarioServer {
  entry: Record<string, unknown>;
  /** Extra environment for the config loader (the secret's variable). */
  env: Record<string, string>;
}

export function serverEntryFor(url: string, scenario: string, context: ScenarioContext): ScenarioServer {
  const entry: Record<string, unknown> = {
    type: 'http',
    url,
    elicitation: { allowed: true, timeout: '20s' },
    roots: true,
  };
  const env: Record<string, string> = {};
  if (!scenario.startsWith('auth/')) return { entry, env };
  if (context.client_secret) env[SECRET_ENV] = context.client_secret;
  if (context.private_key_pem) env[PRIVATE_KEY_ENV] = context.private_key_pem;
  const configured = context.client_id
    ? {
        clientId: context.client_id,
        ...(context.client_secret ? { clientSecretEnv: SECRET_ENV } : {}),
        ...(context.private_key_pem ? { privateKeyEnv: PRIVATE_KEY_ENV } : {}),
        ...(context.signing_algorithm ? { signingAlgorithm: context.signing_algorithm } : {}),
      }
    : {};
  if (scenario.startsWith('auth/client-credentials-')) {
    entry.auth = { type: 'oauth', grant: 'client_credentials', ...configured };
  } else {
    // The suite's authorization servers approve at once: the pool follows the authorization URL itself.
    entry.auth = {
      type: 'oauth',
      grant: 'authorization_code',
      headless: true,
      clientName: 'durable-agents-conformance',
      clientMetadataUrl: CONFORMANCE_CLIENT_METADATA_URL,
      ...configured,
    };
  }
  return { entry, env };
}
