/**
 * Server-side build workspaces (`builds.json`): where each firmware tree is and which command
 * builds it. A spec names a workspace and a target; it never supplies a command.
 */
import { z } from 'zod';
import { durationSchema, durationToMs } from '../../workflows/contracts/duration';
import { BUILD_TARGET_RE } from '../../workflows/contracts/build';

const workspaceSchema = z.strictObject({
  /** The workspace directory (relative to the config file). */
  path: z.string().min(1),
  /** argv, no shell; `{target}` is replaced by the step's target. */
  command: z.array(z.string().min(1)).min(1),
  /** The built image, relative to the workspace; may use `{target}`. */
  artifact: z.string().min(1),
  /** The targets a spec may ask for; absent: any plain name. */
  targets: z.array(z.string().regex(BUILD_TARGET_RE, 'must be a plain name')).optional(),
  env: z.record(z.string(), z.string()).optional(),
  /** Grace between SIGTERM and SIGKILL of the build's process group on cancellation. */
  killGrace: durationSchema.default('10s'),
});

export const buildsFileSchema = z.strictObject({
  workspaces: z
    .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'workspace names are plain names'), workspaceSchema)
    .refine((w) => Object.keys(w).length > 0, 'declare at least one workspace'),
});

export interface BuildWorkspace {
  /** Absolute. */
  path: string;
  command: string[];
  artifact: string;
  targets?: string[];
  env?: Record<string, string>;
  killGraceMs: number;
}

export interface BuildsConfig {
  workspaces: Record<string, BuildWorkspace>;
}

export function resolveWorkspace(w: z.output<typeof workspaceSchema>, absPath: string): BuildWorkspace {
  return {
    path: absPath,
    command: w.command,
    artifact: w.artifact,
    targets: w.targets,
    env: w.env,
    killGraceMs: durationToMs(w.killGrace),
  };
}
