/**
 * The per-server keys that let an MCP server ask the client something (`.mcp.json`):
 *   "elicitation": { "allowed": true, "approvers": ["ops"], "timeout": "10m" }
 *   "sampling": { "allowed": true, "model": "default", "approve": false, "maxTokens": 1024 }
 *   "roots": true | ["./data", "${WORKSPACE}/docs"]
 * A server without them is asked nothing and offered nothing: the SDK answers its requests
 * with "method not found".
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { durationSchema, durationToMs } from '../../../workflows/contracts/duration';

export const DEFAULT_ELICITATION_TIMEOUT = '10m';
export const DEFAULT_SAMPLING_MODEL = 'default';
/** Tokens a sampling answer may take when the server names fewer or none. */
export const DEFAULT_SAMPLING_MAX_TOKENS = 1024;

const approvers = z.array(z.string().min(1, 'must be a non-empty string')).max(100);

export const clientRequestKeys = {
  elicitation: z
    .strictObject({ allowed: z.boolean(), approvers: approvers.optional(), timeout: durationSchema.optional() })
    .optional(),
  sampling: z
    .strictObject({
      allowed: z.boolean(),
      model: z.string().min(1, 'must name a model from the models config').optional(),
      approve: z.boolean().optional(),
      approvers: approvers.optional(),
      timeout: durationSchema.optional(),
      maxTokens: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
  roots: z.union([z.boolean(), z.array(z.string().min(1, 'must be a non-empty path'))]).optional(),
};

type Entry = { [K in keyof typeof clientRequestKeys]?: z.infer<(typeof clientRequestKeys)[K]> };

export interface ElicitationConfig {
  approvers?: string[];
  timeoutMs: number;
}

export interface SamplingConfig {
  model: string;
  /** Set: a person approves each request before it goes to the model. */
  approve?: { approvers?: string[]; timeoutMs: number };
  maxTokens: number;
}

export interface Root {
  uri: string;
  name: string;
}

/** What a server may ask for, as the connection uses it; absent parts are not offered. */
export interface ClientRequestConfig {
  elicitation?: ElicitationConfig;
  sampling?: SamplingConfig;
  roots?: Root[];
}

function rootOf(dir: string): Root {
  return { uri: pathToFileURL(dir).href, name: path.basename(dir) || dir };
}

/**
 * The resolved keys of one entry: `roots: true` announces the workspace (`workspace`: a stdio
 * server's cwd, else the config file's folder); relative paths are relative to the config file.
 */
export function clientRequestConfig(entry: Entry, configDir: string, workspace: string): ClientRequestConfig {
  const out: ClientRequestConfig = {};
  const e = entry.elicitation;
  if (e?.allowed) {
    out.elicitation = {
      ...(e.approvers && { approvers: e.approvers }),
      timeoutMs: durationToMs(e.timeout ?? DEFAULT_ELICITATION_TIMEOUT),
    };
  }
  const s = entry.sampling;
  if (s?.allowed) {
    out.sampling = {
      model: s.model ?? DEFAULT_SAMPLING_MODEL,
      maxTokens: s.maxTokens ?? DEFAULT_SAMPLING_MAX_TOKENS,
      ...(s.approve && {
        approve: {
          ...(s.approvers && { approvers: s.approvers }),
          timeoutMs: durationToMs(s.timeout ?? DEFAULT_ELICITATION_TIMEOUT),
        },
      }),
    };
  }
  if (entry.roots === true) out.roots = [rootOf(workspace)];
  else if (Array.isArray(entry.roots)) out.roots = entry.roots.map((p) => rootOf(path.resolve(configDir, p)));
  return out;
}

/** A server that may ask for input or a model's answer: its calls run one at a time (see CallRouter). */
export function asksClient(c: ClientRequestConfig | undefined): boolean {
  return c?.elicitation !== undefined || c?.sampling !== undefined;
}
