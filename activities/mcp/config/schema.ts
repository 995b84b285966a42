import { z } from 'zod';
import { formatKey, type ConfigProblem } from './keys';
import { oauthEntrySchema } from '../oauth/config';
import { clientRequestKeys } from '../client-requests/config';

/** Server names become the first half of a tool address (`server.tool`), so no dots. */
export const SERVER_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

const required = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `missing: ${what}` : 'must be a non-empty string';

const stringMap = z.record(z.string(), z.string({ error: 'must be a string' }));

const shared = {
  disabled: z.boolean().optional(),
  maxConcurrency: z.number().int().min(1).max(1000).optional(),
  description: z.string().optional(),
  ...clientRequestKeys,
};

export const stdioEntrySchema = z.strictObject({
  type: z.literal('stdio').optional(),
  command: z
    .string({ error: required('a stdio server needs "command" (or "url" for an HTTP server)') })
    .min(1, 'must be a non-empty string'),
  args: z.array(z.string({ error: 'must be a string' })).optional(),
  env: stringMap.optional(),
  cwd: z.string().min(1).optional(),
  ...shared,
});

export const httpEntrySchema = z.strictObject({
  type: z.enum(['http', 'streamable-http', 'sse']).optional(),
  url: z.string({ error: required('an HTTP server needs "url"') }).min(1, 'must be a non-empty string'),
  headers: stringMap.optional(),
  auth: oauthEntrySchema.optional(),
  ...shared,
});

/** A later layer may switch a server off by name without repeating its definition. */
export const disabledEntrySchema = z.strictObject({ disabled: z.literal(true), description: z.string().optional() });

export type StdioEntry = z.infer<typeof stdioEntrySchema>;
export type HttpEntry = z.infer<typeof httpEntrySchema>;
export type ServerEntry = StdioEntry | HttpEntry;

export const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  mcpServers: z.record(z.string(), z.unknown(), { error: 'must be an object of servers by name' }),
});

function isDisabledOnly(entry: Record<string, unknown>): boolean {
  return entry.disabled === true && !('command' in entry) && !('url' in entry) && !('type' in entry);
}

/** The schema an entry is checked against: by `type`, else by which of command/url it has. */
function entrySchemaFor(entry: Record<string, unknown>): z.ZodType<ServerEntry> {
  if (entry.type === 'stdio') return stdioEntrySchema;
  if (entry.type !== undefined) return httpEntrySchema;
  return 'url' in entry && !('command' in entry) ? httpEntrySchema : stdioEntrySchema;
}

export function zodProblems(error: z.ZodError, base: PropertyKey[]): ConfigProblem[] {
  return error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ key: formatKey([...base, ...issue.path, k]), message: 'unknown field' }));
    }
    if (issue.code === 'invalid_value' && issue.path.length === 1 && issue.path[0] === 'type') {
      return [
        { key: formatKey([...base, ...issue.path]), message: 'must be one of stdio, http, streamable-http, sse' },
      ];
    }
    return [{ key: formatKey([...base, ...issue.path]), message: issue.message }];
  });
}

/** Checks one file's structure; entries that pass are returned for expansion. */
export function checkFile(raw: unknown): {
  entries: Record<string, ServerEntry | 'disabled'>;
  problems: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  const entries: Record<string, ServerEntry | 'disabled'> = {};
  const file = fileSchema.safeParse(raw);
  if (!file.success) return { entries, problems: zodProblems(file.error, []) };
  for (const [name, entry] of Object.entries(file.data.mcpServers)) {
    const base = ['mcpServers', name];
    if (!SERVER_NAME_RE.test(name)) {
      problems.push({
        key: formatKey(base),
        message: 'server names use letters, digits, "_" or "-" (max 64; no dots: tools are addressed as server.tool)',
      });
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push({ key: formatKey(base), message: 'must be an object with "command" (stdio) or "url" (HTTP)' });
      continue;
    }
    const fields = entry as Record<string, unknown>;
    const parsed = (isDisabledOnly(fields) ? disabledEntrySchema : entrySchemaFor(fields)).safeParse(entry);
    if (!parsed.success) problems.push(...zodProblems(parsed.error, base));
    else if ('command' in parsed.data || 'url' in parsed.data)
      entries[name] = parsed.data.disabled ? 'disabled' : parsed.data;
    else entries[name] = 'disabled';
  }
  return { entries, problems };
}
