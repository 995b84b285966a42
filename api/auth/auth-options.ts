import type { TokenVerifier } from '../../activities/identity/token-verifier';

/** What createApp is given about identity; provided to every module under AUTH_OPTIONS (api/tokens.ts). */
export interface AuthOptions {
  /** Turns a bearer token into an Identity (activities/identity/token-verifier.ts). */
  verifier: TokenVerifier;
  /** The server's signing secret (approval links, sessions); none: features that sign are off. */
  signingSecret?: string;
  /** Where clients reach this API, for links the API hands out (e.g. http://127.0.0.1:3000). */
  publicUrl?: string;
  /** The Temporal Web UI, for links to runs (e.g. http://localhost:8233). */
  temporalUiUrl?: string;
}
