// Injection tokens. Constructor injection names them explicitly: the API runs under tsx, which
// emits no decorator metadata for Nest to infer types from.
export const TEMPORAL_CONFIG = Symbol('TEMPORAL_CONFIG');
export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');
/** true when the API created the client's connection, so it must close it on shutdown. */
export const OWNS_TEMPORAL_CONNECTION = Symbol('OWNS_TEMPORAL_CONNECTION');
export const SPEC_STORE = Symbol('SPEC_STORE');
export const EXAMPLES_DIR = Symbol('EXAMPLES_DIR');
/** The SpecLimits submitted specs are checked against (see workflows/spec/schema.ts). */
export const SPEC_LIMITS = Symbol('SPEC_LIMITS');
/** The models config (LlmConfig) the model names of submitted specs are checked against; null: not checked. */
export const LLM_MODELS = Symbol('LLM_MODELS');
/** The AuthOptions createApp was given (verifier, signing secret, public and Web UI URLs); see api/auth. */
export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');
