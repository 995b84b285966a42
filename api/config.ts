/**
 * The API process's own settings, read from the environment once at start-up. Temporal
 * connection settings come from temporal/config.ts, shared with the workers.
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_SPEC_LIMITS, SPEC_LIMIT_CEILINGS, type SpecLimits } from '../workflows/spec/schema';
import { parseConfig } from '../config/config-errors';

export interface ApiConfig {
  port: number;
  host: string;
  /** Directory of the durable spec store (see specs/spec-store.ts). */
  specStoreDir: string;
  /** Directory of the webhook subscriptions (see webhooks/webhook-store.ts). */
  webhookStoreDir: string;
  /** Devices file (the device workers' DEVICES_CONFIG) for GET /devices; none: no devices. */
  devicesFile?: string;
  /** Largest JSON request body in bytes; larger ones are answered 413. */
  bodyLimit: number;
  /** Size limits of submitted specs (400 naming the limit beyond them). */
  specLimits: SpecLimits;
  /** Where clients reach the API (links it hands out); default http://<host>:<port>. */
  publicUrl: string;
}

export const REPO_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_SPEC_STORE_DIR = path.join(REPO_ROOT, '.data', 'specs');
export const DEFAULT_WEBHOOK_STORE_DIR = path.join(REPO_ROOT, '.data', 'webhooks');
export const DEFAULT_EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');
/** Room for large specs: a 10,000-step spec is about 1 MB of JSON. */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `10mb`, `512kb`, `1048576`: a byte count with an optional unit (powers of 1024). */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d{1,10})\s*(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * (BYTE_UNITS[(match[2] ?? 'b').toLowerCase()] as number);
}

const byteSize = z.string().transform((text, ctx) => {
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes < 1024) {
    ctx.addIssue({ code: 'custom', message: 'must be a size of at least 1kb, e.g. 10mb, 512kb or 1048576' });
    return z.NEVER;
  }
  return bytes;
});

const limit = (ceiling: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a positive integer')
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(ceiling, `must be at most ${ceiling}`));

const schema = z.object({
  // A regex rather than z.coerce: coercion turns an empty string into port 0.
  API_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number, e.g. 3000')
    .default('3000')
    .transform(Number)
    .pipe(z.number().max(65535, 'must be at most 65535')),
  API_HOST: z.string().min(1, 'must be a host name or address, e.g. 127.0.0.1').default('127.0.0.1'),
  SPEC_STORE_DIR: z.string().min(1, 'must be a directory path').default(DEFAULT_SPEC_STORE_DIR),
  WEBHOOK_STORE_DIR: z.string().min(1, 'must be a directory path').default(DEFAULT_WEBHOOK_STORE_DIR),
  DEVICES_CONFIG: z.string().min(1, 'must be a file path').optional(),
  API_PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. https://agents.example.com' })
    .optional(),
  API_BODY_LIMIT: byteSize.optional(),
  SPEC_MAX_STEPS: limit(SPEC_LIMIT_CEILINGS.maxSteps, DEFAULT_SPEC_LIMITS.maxSteps),
  SPEC_MAX_DEPTH: limit(SPEC_LIMIT_CEILINGS.maxStepDepth, DEFAULT_SPEC_LIMITS.maxStepDepth),
  SPEC_MAX_NESTING: limit(SPEC_LIMIT_CEILINGS.maxNesting, DEFAULT_SPEC_LIMITS.maxNesting),
});

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = parseConfig(schema, env, 'environment');
  return {
    port: parsed.API_PORT,
    host: parsed.API_HOST,
    specStoreDir: path.resolve(parsed.SPEC_STORE_DIR),
    webhookStoreDir: path.resolve(parsed.WEBHOOK_STORE_DIR),
    devicesFile: parsed.DEVICES_CONFIG && path.resolve(parsed.DEVICES_CONFIG),
    bodyLimit: parsed.API_BODY_LIMIT ?? DEFAULT_BODY_LIMIT,
    specLimits: {
      maxSteps: parsed.SPEC_MAX_STEPS,
      maxStepDepth: parsed.SPEC_MAX_DEPTH,
      maxNesting: parsed.SPEC_MAX_NESTING,
    },
    publicUrl: (parsed.API_PUBLIC_URL ?? `http://${hostForUrl(parsed.API_HOST)}:${parsed.API_PORT}`).replace(
      /\/+$/,
      '',
    ),
  };
}

/** An IPv6 address goes in brackets in a URL. */
function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
