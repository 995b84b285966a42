/**
 * The MCP SDK's OAuthClientProvider for one configured server, backed by its token file. The SDK
 * does the protocol (discovery, registration, PKCE, token and refresh requests, retrying a 401);
 * this class answers where credentials come from and where they go.
 */
import { randomBytes } from 'node:crypto';
import type { AddClientAuthentication, OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { createPrivateKeyJwtAuth } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthConfig } from './config';
import { McpLoginRequiredError, McpOAuthError } from './errors';
import { OAuthStore } from './store';

export interface OAuthServer {
  name: string;
  url: string;
  auth: OAuthConfig;
}

/** Never listened on: a worker only refreshes, or (headless) reads the code from the redirect's Location. */
const WORKER_REDIRECT_URL = 'http://127.0.0.1/callback';

export type ProviderMode =
  /** The worker's pool: stored tokens, refreshed; a needed login is an error (unless `headless`). */
  | { kind: 'worker' }
  /** The login script: ignores stored tokens, hands the authorization URL to a person. */
  | { kind: 'login'; redirectUrl: string; onAuthorizationUrl: (url: URL) => void | Promise<void> };

export class StoredOAuthProvider implements OAuthClientProvider {
  readonly store: OAuthStore;
  private verifier?: string;
  private expectedState?: string;
  /** The tokens this login obtained (login mode trusts nothing stored before). */
  private loginTokens?: OAuthTokens;
  /** The access token `tokens()` last returned: the one a refusal is about. */
  private handedOut?: string;
  /** `headless`: the code taken from the authorization redirect, for the transport's finishAuth. */
  private pendingCode?: string;

  /** private_key_jwt: a signed assertion instead of a secret at the token endpoint. */
  readonly addClientAuthentication?: AddClientAuthentication;

  constructor(
    readonly server: OAuthServer,
    private readonly mode: ProviderMode = { kind: 'worker' },
  ) {
    this.store = new OAuthStore(server.auth.tokenFile, server.url);
    const { clientId, privateKey, signingAlgorithm } = server.auth;
    const key = privateKey();
    if (clientId && key)
      this.addClientAuthentication = createPrivateKeyJwtAuth({
        issuer: clientId,
        subject: clientId,
        privateKey: key,
        alg: signingAlgorithm,
      });
  }

  private get auth(): OAuthConfig {
    return this.server.auth;
  }

  get redirectUrl(): string | undefined {
    if (this.auth.grant === 'client_credentials') return undefined;
    if (this.mode.kind === 'login') return this.mode.redirectUrl;
    return this.auth.redirectUrl ?? WORKER_REDIRECT_URL;
  }

  get clientMetadataUrl(): string | undefined {
    return this.auth.clientMetadataUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    const machine = this.auth.grant === 'client_credentials';
    const redirect = this.redirectUrl;
    return {
      client_name: this.auth.clientName ?? 'durable-agents',
      redirect_uris: redirect ? [redirect] : [],
      grant_types: machine ? ['client_credentials'] : ['authorization_code', 'refresh_token'],
      response_types: machine ? [] : ['code'],
      token_endpoint_auth_method: this.auth.privateKeyEnv
        ? 'private_key_jwt'
        : this.auth.clientSecretEnv
          ? 'client_secret_basic'
          : 'none',
      ...(this.auth.scope ? { scope: this.auth.scope } : {}),
    };
  }

  /** A worker with the authorization-code grant cannot start a login itself: without tokens it stops here. */
  loginRequired(): boolean {
    return (
      this.mode.kind === 'worker' &&
      this.auth.grant === 'authorization_code' &&
      !this.auth.headless &&
      !this.store.read().tokens
    );
  }

  loginRequiredError(why: string): McpLoginRequiredError {
    return new McpLoginRequiredError(this.server.name, this.server.url, why, this.auth.tokenFile);
  }

  state(): string {
    this.expectedState = randomBytes(16).toString('base64url');
    return this.expectedState;
  }

  /** Whether `state` is the one sent with the last authorization request. */
  stateMatches(state: string | null): boolean {
    return this.expectedState !== undefined && state === this.expectedState;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    const stored = this.store.read().client;
    if (this.auth.clientId) {
      // Configured client: the id from the config, the secret from the environment; the file
      // keeps only which authorization server accepted them.
      const secret = this.auth.clientSecret();
      const issuer = stored?.client_id === this.auth.clientId ? stored.issuer : undefined;
      return {
        client_id: this.auth.clientId,
        ...(secret ? { client_secret: secret } : {}),
        ...(issuer ? { issuer } : {}),
      };
    }
    if (!stored) return undefined;
    // A registration made for another redirect URL is made again (the login's port may change).
    const redirect = this.redirectUrl;
    if (this.mode.kind === 'login' && redirect && 'redirect_uris' in stored && !stored.redirect_uris.includes(redirect))
      return undefined;
    return stored;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    if (this.auth.clientId) {
      if (info.client_id === this.auth.clientId)
        this.store.update((s) => ({ ...s, client: { client_id: info.client_id, issuer: info.issuer } }));
      return;
    }
    this.store.update((s) => ({ ...s, client: info }));
  }

  tokens(): OAuthTokens | undefined {
    if (this.mode.kind === 'login') return this.loginTokens;
    const tokens = this.store.read().tokens;
    this.handedOut = tokens?.access_token;
    return tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    const stored = { ...tokens, obtained_at: Date.now() };
    if (this.mode.kind === 'login') this.loginTokens = stored;
    this.store.update((s) => ({ ...s, tokens: stored }));
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    if (this.mode.kind === 'login') return this.mode.onAuthorizationUrl(authorizationUrl);
    if (!this.auth.headless)
      throw this.loginRequiredError('the stored tokens are gone or the authorization server refused the refresh token');
    this.pendingCode = await this.followAuthorization(authorizationUrl);
  }

  /** `headless`: asks the authorization endpoint directly and reads the code from its redirect. */
  private async followAuthorization(authorizationUrl: URL): Promise<string> {
    const fail = (why: string) =>
      new McpOAuthError(this.server.name, this.server.url, `MCP server "${this.server.name}": headless OAuth: ${why}`);
    const res = await fetch(authorizationUrl, { redirect: 'manual' });
    await res.body?.cancel();
    const location = res.headers.get('location');
    if (!location) throw fail(`the authorization endpoint answered HTTP ${res.status} without a redirect`);
    const back = new URL(location, authorizationUrl);
    const error = back.searchParams.get('error');
    if (error) throw fail(`authorization refused: ${error} ${back.searchParams.get('error_description') ?? ''}`.trim());
    const code = back.searchParams.get('code');
    if (!code) throw fail('the redirect carries no authorization code');
    if (back.searchParams.has('state') && !this.stateMatches(back.searchParams.get('state')))
      throw fail('the redirect carries a state that was not sent');
    return code;
  }

  /** The code a headless authorization produced, once. */
  takePendingCode(): string | undefined {
    const code = this.pendingCode;
    this.pendingCode = undefined;
    return code;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no PKCE code verifier: the authorization was not started by this process');
    return this.verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') {
      this.loginTokens = undefined;
      // Tokens another worker process stored meanwhile are newer than the refused ones: kept.
      const stored = this.store.read().tokens;
      if (stored && (this.handedOut === undefined || stored.access_token === this.handedOut))
        this.store.update((s) => ({ ...s, tokens: undefined }));
    }
    // A configured client stays: only what registration produced can be thrown away.
    if ((scope === 'all' || scope === 'client') && !this.auth.clientId && this.store.read().client)
      this.store.update((s) => ({ ...s, client: undefined }));
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
  }

  prepareTokenRequest(scope?: string): URLSearchParams | undefined {
    if (this.auth.grant !== 'client_credentials') return undefined; // the SDK's authorization-code request
    const params = new URLSearchParams({ grant_type: 'client_credentials' });
    const wanted = this.auth.scope ?? scope;
    if (wanted) params.set('scope', wanted);
    return params;
  }
}
