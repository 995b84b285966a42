/**
 * The API process's own settings, read from the environment once at start-up. Temporal
 * connection settings come from temporal/config.ts, shared with the workers.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseConfig } from '../workers/config-errors';

export interface ApiConfig {
  port: number;
  host: string;
  /** Directory of the durable spec store (see specs/spec-store.ts). */
  specStoreDir: string;
  /** Devices file (the device workers' DEVICES_CONFIG) for GET /devices; none: no devices. */
  devicesFile?: string;
}

export const REPO_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_SPEC_STORE_DIR = path.join(REPO_ROOT, '.data', 'specs');
export const DEFAULT_EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');

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
  DEVICES_CONFIG: z.string().min(1, 'must be a file path').optional(),
});

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = parseConfig(schema, env, 'environment');
  return {
    port: parsed.API_PORT,
    host: parsed.API_HOST,
    specStoreDir: path.resolve(parsed.SPEC_STORE_DIR),
    devicesFile: parsed.DEVICES_CONFIG && path.resolve(parsed.DEVICES_CONFIG),
  };
}
