import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { buildsFileSchema, resolveWorkspace, type BuildsConfig } from '../activities/build/config';
import { BUILD_TASK_QUEUE } from '../workflows/contracts/build';
import { durationSchema, durationToMs } from '../workflows/contracts/duration';
import { formatPath, ConfigError, parseConfig } from '../config/config-errors';

export function loadBuildsConfig(file: string): BuildsConfig {
  const abs = path.resolve(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (err) {
    throw new ConfigError(abs, [{ key: '(file)', message: `cannot read as JSON: ${(err as Error).message}` }]);
  }
  const parsed = parseConfig(buildsFileSchema, raw, abs, (p) => formatPath(p));
  const dir = path.dirname(abs);
  return {
    workspaces: Object.fromEntries(
      Object.entries(parsed.workspaces).map(([name, w]) => [name, resolveWorkspace(w, path.resolve(dir, w.path))]),
    ),
  };
}

export interface BuildWorkerConfig {
  taskQueue: string;
  /** Builds running at once on this worker; the queue's cap is the sum over its build workers. */
  slots: number;
  /** Builds started per second on the queue, all build workers together (enforced by the server). */
  startsPerSecond?: number;
  builds: BuildsConfig;
  shutdownGraceTimeMs: number;
  /** Where the worker records the process groups it starts (builds), see process-ledger.ts. */
  runDir: string;
}

const envSchema = z.object({
  BUILD_CONFIG: z.string().min(1).default('builds.json'),
  BUILD_SLOTS: z.coerce.number().int().min(1).max(256).default(4),
  BUILD_QUEUE_STARTS_PER_SECOND: z.coerce.number().positive('must be a number greater than 0').optional(),
  BUILD_SHUTDOWN_GRACE: durationSchema.default('30s'),
  WORKER_RUN_DIR: z.string().min(1).default('.data/run'),
});

export function loadBuildWorkerConfig(env: NodeJS.ProcessEnv = process.env): BuildWorkerConfig {
  const e = parseConfig(envSchema, env, 'environment');
  return {
    taskQueue: BUILD_TASK_QUEUE,
    slots: e.BUILD_SLOTS,
    ...(e.BUILD_QUEUE_STARTS_PER_SECOND !== undefined && { startsPerSecond: e.BUILD_QUEUE_STARTS_PER_SECOND }),
    builds: loadBuildsConfig(e.BUILD_CONFIG),
    shutdownGraceTimeMs: durationToMs(e.BUILD_SHUTDOWN_GRACE),
    runDir: path.resolve(e.WORKER_RUN_DIR),
  };
}
