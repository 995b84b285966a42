/**
 * Reads the layered MCP server config: `.mcp.json` → `.mcp.local.json` → `.mcp.<env>.json`.
 * Each layer is validated on its own (so an error names the file it is in); a later layer
 * replaces an earlier layer's server of the same name as a whole.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../../config/config-errors';
import { formatKey, type ConfigProblem } from './keys';
import { resolveOAuthConfig } from '../oauth/config';
import { clientRequestConfig } from '../client-requests/config';
import { checkFile, type ServerEntry } from './schema';
import type { McpConfig, McpServerConfig } from './types';
import { expandVariables } from './variables';

export interface McpConfigLocation {
  /** A directory holding `.mcp.json` and its layers, or one base file (`x.json` → `x.local.json`, `x.<env>.json`). */
  location: string;
  /** Selects the `.mcp.<env>.json` layer. */
  envName?: string;
  /** The base file or directory must exist (it was named explicitly). */
  required: boolean;
}

const ENV_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** The layer files that exist, in the order they apply. */
export function layerFiles({ location, envName, required }: McpConfigLocation): string[] {
  const resolved = path.resolve(location);
  const isDir = existsSync(resolved) && statSync(resolved).isDirectory();
  if (!isDir && !existsSync(resolved)) {
    if (required) throw new ConfigError('environment', [{ key: 'MCP_CONFIG', message: `${resolved} does not exist` }]);
    return [];
  }
  const dir = isDir ? resolved : path.dirname(resolved);
  const base = isDir ? '.mcp' : path.basename(resolved, '.json');
  const candidates = [`${base}.json`, `${base}.local.json`, ...(envName ? [`${base}.${envName}.json`] : [])];
  const found = candidates.map((f) => path.join(dir, f)).filter((f) => existsSync(f));
  if (required && found.length === 0) {
    throw new ConfigError('environment', [{ key: 'MCP_CONFIG', message: `no ${candidates.join(', ')} in ${dir}` }]);
  }
  return found;
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [{ key: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
}

/** `./x` and `../x` are relative to the config file's folder; bare names (`npx`, `node`) stay for PATH lookup. */
function resolveRelative(value: string, dir: string): string {
  return value.startsWith('./') || value.startsWith('../') ? path.resolve(dir, value) : value;
}

function checkUrl(url: string, key: string, problems: ConfigProblem[]): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    problems.push({ key, message: `"${url}" is not a valid http(s) URL` });
  }
}

/** `clientRequests` only when the entry lets the server ask something or names roots. */
function withClientRequests(entry: ServerEntry, dir: string, workspace: string) {
  const c = clientRequestConfig(entry, dir, workspace);
  return Object.keys(c).length > 0 ? { clientRequests: c } : {};
}

function toServerConfig(
  name: string,
  entry: ServerEntry,
  file: string,
  problems: ConfigProblem[],
  env: Readonly<Record<string, string | undefined>> = {},
): McpServerConfig {
  const dir = path.dirname(file);
  if ('command' in entry) {
    const cwd = path.resolve(dir, entry.cwd ?? '.');
    return {
      ...withClientRequests(entry, dir, cwd),
      name,
      transport: 'stdio',
      command: resolveRelative(entry.command, dir),
      args: (entry.args ?? []).map((a) => resolveRelative(a, dir)),
      env: entry.env ?? {},
      cwd: path.resolve(dir, entry.cwd ?? '.'),
      maxConcurrency: entry.maxConcurrency,
      source: file,
    };
  }
  checkUrl(entry.url, formatKey(['mcpServers', name, 'url']), problems);
  return {
    ...withClientRequests(entry, dir, dir),
    name,
    transport: entry.type === 'sse' ? 'sse' : 'http',
    url: entry.url,
    headers: entry.headers ?? {},
    maxConcurrency: entry.maxConcurrency,
    source: file,
    ...(entry.auth ? { auth: resolveOAuthConfig(name, entry.auth, env, problems) } : {}),
  };
}

/** One layer: structure, then `${VAR}` expansion (WORKSPACE defaults to the file's folder), then paths and URLs. */
export function loadLayer(file: string, env: Readonly<Record<string, string | undefined>>) {
  const { entries, problems } = checkFile(readJson(file));
  const vars = { WORKSPACE: path.dirname(file), ...env };
  const servers: Record<string, McpServerConfig | 'disabled'> = {};
  for (const [name, raw] of Object.entries(entries)) {
    if (raw === 'disabled') servers[name] = 'disabled';
    else
      servers[name] = toServerConfig(
        name,
        expandVariables(raw, vars, ['mcpServers', name], problems) as ServerEntry,
        file,
        problems,
        env,
      );
  }
  if (problems.length) throw new ConfigError(file, problems);
  return servers;
}

export function loadMcpConfig(
  where: McpConfigLocation,
  env: Readonly<Record<string, string | undefined>> = process.env,
): McpConfig {
  if (where.envName !== undefined && !ENV_NAME_RE.test(where.envName)) {
    throw new ConfigError('environment', [
      { key: 'MCP_ENV', message: `"${where.envName}" cannot name a config layer (letters, digits, "_" or "-")` },
    ]);
  }
  const files = layerFiles(where);
  const merged: Record<string, McpServerConfig | 'disabled'> = {};
  for (const file of files) Object.assign(merged, loadLayer(file, env));
  const servers: Record<string, McpServerConfig> = {};
  const disabled: string[] = [];
  for (const [name, s] of Object.entries(merged)) {
    if (s === 'disabled') disabled.push(name);
    else servers[name] = s;
  }
  return { servers, disabled, files };
}
