/**
 * Worker Versioning settings of the orchestrator worker, read from the environment: which worker
 * deployment it belongs to, its build id, and whether it makes itself the deployment's current
 * version when it starts. See the README, "Upgrade the workers".
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseConfig } from '../config/config-errors';

/**
 * When a starting worker makes its version the deployment's current one: `first` only if the
 * deployment never had a current version; `always` (one worker generation at a time, as under
 * `npm start` on its own dev server); `never` (an operator promotes).
 */
export type PromotePolicy = 'first' | 'always' | 'never';

export type WorkerVersioningConfig =
  | { enabled: false }
  | {
      enabled: true;
      deploymentName: string;
      /** Absent: derived from the package version and the workflow bundle, see defaultBuildId. */
      buildId?: string;
      promote: PromotePolicy;
    };

export const DEFAULT_DEPLOYMENT_NAME = 'durable-agents-orchestrator';

const schema = z.object({
  WORKER_VERSIONING: z.enum(['on', 'off'], { message: 'must be "on" or "off"' }).default('on'),
  // Temporal joins name and build id with a dot ("name.build"), so a name may not contain one.
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/,
      'must be 1-100 letters, digits, "-" or "_", starting with a letter or digit',
    )
    .default(DEFAULT_DEPLOYMENT_NAME),
  // Temporal accepts up to 255 characters; a worker with a longer id polls but never registers.
  WORKER_BUILD_ID: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/,
      'must be 1-64 letters, digits, ".", "_", "+" or "-", starting with a letter or digit',
    )
    .optional(),
  WORKER_PROMOTE: z
    .enum(['first', 'always', 'never'], { message: 'must be "first", "always" or "never"' })
    .default('first'),
});

export function loadWorkerVersioningConfig(env: NodeJS.ProcessEnv = process.env): WorkerVersioningConfig {
  const c = parseConfig(schema, env, 'environment');
  if (c.WORKER_VERSIONING === 'off') return { enabled: false };
  return {
    enabled: true,
    deploymentName: c.WORKER_DEPLOYMENT_NAME,
    buildId: c.WORKER_BUILD_ID,
    promote: c.WORKER_PROMOTE,
  };
}

/**
 * The build id a worker takes when none is configured: the package version and a hash of the
 * workflow bundle, so it changes exactly when workflow code does (a worker whose activities alone
 * changed joins the running version). The inline source map is left out of the hash: it holds
 * absolute paths, and the same code checked out elsewhere must get the same id.
 */
export function defaultBuildId(bundleCode: string, packageVersion = readPackageVersion()): string {
  const code = bundleCode.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '');
  return `${packageVersion}-${createHash('sha256').update(code).digest('hex').slice(0, 12)}`;
}

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
