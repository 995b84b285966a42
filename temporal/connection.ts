/**
 * Where Temporal is and how to reach it, read once from Temporal's own environment configuration
 * (@temporalio/envconfig): a profile of a TOML file and the TEMPORAL_* variables that override
 * it. One result feeds Connection.connect/lazy (API, scripts) and NativeConnection.connect
 * (workers) alike.
 *
 * Nothing set means the local dev server at 127.0.0.1:7233, namespace "default", as before. The
 * file is read only when TEMPORAL_PROFILE or TEMPORAL_CONFIG_FILE asks for it, so a Temporal CLI
 * profile kept for other work does not silently redirect `npm start`.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import type { ConnectionOptions } from '@temporalio/client';
import {
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import { ConfigError } from '../config/config-errors';

/** What Connection.connect/lazy and NativeConnection.connect both take to reach the server. */
export interface TemporalConnectOptions {
  address: string;
  tls?: ConnectionOptions['tls'];
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** How the connection is secured beyond its address; absent means plain gRPC. */
export interface TemporalAccess {
  tls?: ConnectionOptions['tls'];
  apiKey?: string;
  metadata?: Record<string, string>;
  /** Where the settings came from, for start-up lines: `environment` or `profile "prod" of /x/temporal.toml`. */
  source: string;
  /** Something chose the server (an address, a profile, TLS or a key) rather than the local default. */
  explicit: boolean;
}

export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  access: TemporalAccess;
}

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

/** host:port with a DNS name, an IPv4 address or a bracketed IPv6 address. */
const ADDRESS = /^(?:\[[0-9a-fA-F:.]+\]|[^:\s[\]/]+):(\d{1,5})$/;
const ADDRESS_HINT = 'must be host:port, e.g. 127.0.0.1:7233 or [::1]:7233';
const BOOLEAN = /^(?:1|0|true|false)$/;

/** The TEMPORAL_* variables envconfig reads, with the profile key each overrides. */
const ENV_KEYS = {
  TEMPORAL_ADDRESS: 'address',
  TEMPORAL_NAMESPACE: 'namespace',
  TEMPORAL_API_KEY: 'api_key',
  TEMPORAL_TLS: 'tls.disabled',
  TEMPORAL_TLS_CLIENT_CERT_PATH: 'tls.client_cert_path',
  TEMPORAL_TLS_CLIENT_CERT_DATA: 'tls.client_cert_data',
  TEMPORAL_TLS_CLIENT_KEY_PATH: 'tls.client_key_path',
  TEMPORAL_TLS_CLIENT_KEY_DATA: 'tls.client_key_data',
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'tls.server_ca_cert_path',
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'tls.server_ca_cert_data',
  TEMPORAL_TLS_SERVER_NAME: 'tls.server_name',
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'tls.disable_host_verification',
  TEMPORAL_PROFILE: '',
  TEMPORAL_CONFIG_FILE: '',
} as const;
type EnvKey = keyof typeof ENV_KEYS;

/** The three PEM sources of a TLS profile, by their env prefix and profile key. */
const PEM_SOURCES = [
  { field: 'clientCert', env: 'TEMPORAL_TLS_CLIENT_CERT', toml: 'tls.client_cert' },
  { field: 'clientKey', env: 'TEMPORAL_TLS_CLIENT_KEY', toml: 'tls.client_key' },
  { field: 'serverCACert', env: 'TEMPORAL_TLS_SERVER_CA_CERT', toml: 'tls.server_ca_cert' },
] as const;

type Problem = { key: string; message: string };

/**
 * Reads the connection settings: TEMPORAL_* variables over the profile TEMPORAL_PROFILE names
 * (default "default") in TEMPORAL_CONFIG_FILE (default ~/.config/temporalio/temporal.toml).
 * Certificate and key files are read here, once. A bad value throws a ConfigError naming the
 * variable, or the profile key and file it came from.
 */
export function loadTemporalConnection(env: NodeJS.ProcessEnv = process.env): TemporalConnectionSettings {
  const vars = connectionVars(env);
  checkVars(vars);
  const useFile = vars.TEMPORAL_PROFILE !== undefined || vars.TEMPORAL_CONFIG_FILE !== undefined;
  const file = useFile ? configFile(vars, env) : undefined;
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  const fileSource = file ? `profile "${profileName}" of ${file}` : 'environment';
  const fromFile = file ? readProfile(file, vars) : {};
  const merged = mergeEnv(fromFile, vars, env);
  const alsoEnv = Object.keys(vars).some((k) => k !== 'TEMPORAL_PROFILE' && k !== 'TEMPORAL_CONFIG_FILE');

  const problems: Problem[] = [];
  const keyOf = (envKey: EnvKey): string =>
    vars[envKey] !== undefined || !file ? envKey : `${ENV_KEYS[envKey]} (${fileSource})`;
  const address = merged.address ?? DEFAULT_ADDRESS;
  const port = ADDRESS.exec(address)?.[1];
  if (port === undefined || Number(port) < 1 || Number(port) > 65_535)
    problems.push({ key: keyOf('TEMPORAL_ADDRESS'), message: ADDRESS_HINT });
  if (merged.namespace === '') problems.push({ key: keyOf('TEMPORAL_NAMESPACE'), message: 'must not be empty' });
  const tls = merged.tls ? readPems(merged.tls, vars, file ? fileSource : undefined, problems) : undefined;
  if (problems.length > 0) throw new ConfigError('environment', problems);

  const { connectionOptions } = toClientOptions({ ...merged, tls });
  const explicit =
    useFile || Object.keys(vars).some((k) => k !== 'TEMPORAL_NAMESPACE') || Object.keys(grpcMeta(env)).length > 0;
  return {
    address,
    namespace: merged.namespace ?? DEFAULT_NAMESPACE,
    access: redacted({
      tls:
        typeof connectionOptions.tls === 'object' && connectionOptions.tls !== null
          ? dropUndefined(connectionOptions.tls)
          : (connectionOptions.tls ?? undefined),
      apiKey: connectionOptions.apiKey as string | undefined,
      metadata: merged.grpcMeta && Object.keys(merged.grpcMeta).length > 0 ? merged.grpcMeta : undefined,
      source: file && alsoEnv ? `${fileSource} and environment` : fileSource,
      explicit,
    }),
  };
}

/**
 * The config travels far (Nest injects it into every service): should it ever be logged or
 * serialized, the key and the client key stay out of the output.
 */
function redacted(access: TemporalAccess): TemporalAccess {
  const shown = () => ({
    source: access.source,
    explicit: access.explicit,
    tls: access.tls ? (typeof access.tls === 'object' && access.tls.clientCertPair ? 'mTLS' : 'TLS') : false,
    apiKey: access.apiKey ? '(set)' : undefined,
  });
  const out = dropUndefined(access);
  Object.defineProperty(out, 'toJSON', { value: shown, enumerable: false });
  Object.defineProperty(out, inspect.custom, { value: shown, enumerable: false });
  return out;
}

/** Options for Connection.connect/lazy and NativeConnection.connect; plain gRPC to `address` without `access`. */
export function temporalConnectOptions(config: { address: string; access?: TemporalAccess }): TemporalConnectOptions {
  const { tls, apiKey, metadata } = config.access ?? {};
  return dropUndefined({ address: config.address, tls, apiKey, metadata });
}

/** One line for start-up output, without secrets: `[::1]:7233 (namespace "x", mTLS, profile "prod" of /x.toml)`. */
export function describeConnection(config: { address: string; namespace: string; access?: TemporalAccess }): string {
  const { tls, apiKey, source } = config.access ?? {};
  const security = [
    tls ? (typeof tls === 'object' && tls.clientCertPair ? 'mTLS' : 'TLS') : 'plain gRPC',
    ...(apiKey ? ['API key'] : []),
  ].join(' + ');
  const from = source && source !== 'environment' ? `, ${source}` : '';
  return `${config.address} (namespace "${config.namespace}", ${security}${from})`;
}

/** Our TEMPORAL_* variables that are set, empty ones included (they are errors). */
function connectionVars(env: NodeJS.ProcessEnv): Partial<Record<EnvKey, string>> {
  const vars: Partial<Record<EnvKey, string>> = {};
  for (const key of Object.keys(ENV_KEYS) as EnvKey[]) {
    const value = env[key];
    if (value !== undefined) vars[key] = value;
  }
  return vars;
}

function grpcMeta(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (e): e is [string, string] => e[0].startsWith('TEMPORAL_GRPC_META_') && e[1] !== undefined,
    ),
  );
}

function checkVars(vars: Partial<Record<EnvKey, string>>): void {
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(vars) as Array<[EnvKey, string]>) {
    if (value.trim() === '') problems.push({ key, message: 'must not be empty (unset it instead)' });
  }
  if (vars.TEMPORAL_ADDRESS?.trim() && !ADDRESS.test(vars.TEMPORAL_ADDRESS))
    problems.push({ key: 'TEMPORAL_ADDRESS', message: ADDRESS_HINT });
  for (const key of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'] as const) {
    const value = vars[key];
    if (value?.trim() && !BOOLEAN.test(value)) problems.push({ key, message: 'must be true, false, 1 or 0' });
  }
  if (vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' || vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1') {
    problems.push({
      key: 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
      message: 'is not supported by the TypeScript SDK; set TEMPORAL_TLS_SERVER_NAME to the name the certificate holds',
    });
  }
  for (const { env } of PEM_SOURCES) {
    if (vars[`${env}_PATH`] !== undefined && vars[`${env}_DATA`] !== undefined)
      problems.push({ key: `${env}_PATH`, message: `give ${env}_PATH or ${env}_DATA, not both` });
  }
  if (problems.length > 0) throw new ConfigError('environment', problems);
}

function configFile(vars: Partial<Record<EnvKey, string>>, env: NodeJS.ProcessEnv): string {
  if (vars.TEMPORAL_CONFIG_FILE !== undefined) {
    if (!existsSync(vars.TEMPORAL_CONFIG_FILE)) {
      throw new ConfigError('environment', [
        { key: 'TEMPORAL_CONFIG_FILE', message: `no such file: ${vars.TEMPORAL_CONFIG_FILE}` },
      ]);
    }
    return vars.TEMPORAL_CONFIG_FILE;
  }
  // envconfig's default location (on Windows it is under APPDATA).
  const home = env.HOME ?? os.homedir();
  const base =
    process.platform === 'win32'
      ? (env.APPDATA ?? home)
      : process.platform === 'darwin'
        ? path.join(home, 'Library', 'Application Support')
        : env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
          ? env.XDG_CONFIG_HOME
          : path.join(home, '.config');
  return path.join(base, 'temporalio', 'temporal.toml');
}

/** The named profile as the file holds it (strict: an unknown key is a typo, not something to ignore). */
function readProfile(file: string, vars: Partial<Record<EnvKey, string>>): ClientConfigProfile {
  try {
    return loadClientConfigProfile({
      // Named even when it is "default": a file without the profile asked for is a mistake.
      profile: vars.TEMPORAL_PROFILE ?? 'default',
      configSource: existsSync(file) ? { path: file } : { data: '' },
      configFileStrict: true,
      disableEnv: true,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const key = vars.TEMPORAL_CONFIG_FILE !== undefined ? 'TEMPORAL_CONFIG_FILE' : 'TEMPORAL_PROFILE';
    if (/^Profile '.*' not found/.test(message)) {
      const name = vars.TEMPORAL_PROFILE ?? 'default';
      throw new ConfigError('environment', [
        { key: vars.TEMPORAL_PROFILE ? 'TEMPORAL_PROFILE' : key, message: `no profile "${name}" in ${file}` },
      ]);
    }
    throw new ConfigError('environment', [{ key, message: `${file}: ${message}` }]);
  }
}

/** The profile with the TEMPORAL_* variables laid over it, as envconfig itself applies them. */
function mergeEnv(
  profile: ClientConfigProfile,
  vars: Partial<Record<EnvKey, string>>,
  env: NodeJS.ProcessEnv,
): ClientConfigProfile {
  const fromEnv = loadClientConfigProfile({
    disableFile: true,
    // envconfig wants every value a string; only our variables and the gRPC metadata ones matter to it.
    overrideEnvVars: { ...(vars as Record<string, string>), ...grpcMeta(env) },
  });
  const tls = profile.tls || fromEnv.tls ? { ...profile.tls, ...fromEnv.tls } : undefined;
  // A source given in the environment replaces the profile's, whichever of path or data each uses.
  if (tls && fromEnv.tls) {
    for (const { field } of PEM_SOURCES) if (fromEnv.tls[field]) tls[field] = fromEnv.tls[field];
  }
  return dropUndefined({
    ...profile,
    ...dropUndefined({ address: fromEnv.address, namespace: fromEnv.namespace, apiKey: fromEnv.apiKey }),
    tls,
    grpcMeta: profile.grpcMeta || fromEnv.grpcMeta ? { ...profile.grpcMeta, ...fromEnv.grpcMeta } : undefined,
  });
}

/**
 * Reads the certificate and key files now, so a missing or wrong file stops start-up naming its
 * key rather than failing the first connection attempt obscurely.
 */
function readPems(
  tls: NonNullable<ClientConfigProfile['tls']>,
  vars: Partial<Record<EnvKey, string>>,
  fileSource: string | undefined,
  problems: Problem[],
): NonNullable<ClientConfigProfile['tls']> {
  if (tls.disabled) return { disabled: true };
  const out = { ...tls };
  const keyOf = (env: string, toml: string, kind: 'PATH' | 'DATA'): string =>
    vars[`${env}_${kind}` as EnvKey] !== undefined || !fileSource
      ? `${env}_${kind}`
      : `${toml}_${kind.toLowerCase()} (${fileSource})`;
  for (const { field, env, toml } of PEM_SOURCES) {
    const source: ConfigDataSource | undefined = tls[field];
    if (!source) continue;
    const kind = 'path' in source ? 'PATH' : 'DATA';
    let pem: string;
    try {
      pem = 'path' in source ? readFileSync(source.path, 'utf8') : Buffer.from(source.data).toString('utf8');
    } catch (err) {
      problems.push({
        key: keyOf(env, toml, kind),
        message: `cannot read ${(source as { path: string }).path}: ${(err as Error).message}`,
      });
      continue;
    }
    if (!pem.includes('-----BEGIN ')) {
      problems.push({ key: keyOf(env, toml, kind), message: 'is not PEM (no -----BEGIN line)' });
      continue;
    }
    out[field] = { data: pem };
  }
  if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
    const [missing] = tls.clientCert ? PEM_SOURCES.slice(1, 2) : PEM_SOURCES.slice(0, 1);
    problems.push({
      key: fileSource ? `${missing!.env}_PATH or ${missing!.toml}_path (${fileSource})` : `${missing!.env}_PATH`,
      message: 'mTLS needs both the client certificate and its key',
    });
  }
  return out;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
