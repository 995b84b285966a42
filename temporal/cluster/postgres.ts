/**
 * A PostgreSQL server of the cluster's own (Debian's postgresql package): its data folder under
 * the cluster's state folder, on loopback, password-authenticated. PostgreSQL refuses to run as
 * root, so as root every PostgreSQL program runs as the `postgres` system user (runuser).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface PostgresOptions {
  /** Holds data/ (the cluster), postgres.log and the unix socket. */
  dir: string;
  host: string;
  port: number;
  /** The superuser that initdb creates; the Temporal server and its schema tool log in as it. */
  user: string;
  password: string;
}

const SYSTEM_USER = 'postgres';
const isRoot = (): boolean => process.getuid?.() === 0;

/** PG_BIN_DIR, else the newest /usr/lib/postgresql/N/bin (Debian's layout). */
export function postgresBinDir(): string {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error('PostgreSQL is not installed: `apt-get install postgresql` (or set PG_BIN_DIR to its bin folder)');
  }
  return path.join(root, versions[0], 'bin');
}

function run(program: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const file = path.join(postgresBinDir(), program);
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', SYSTEM_USER, '--', file, ...args]] : [file, args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

const dataDir = (o: PostgresOptions): string => path.join(o.dir, 'data');
export const postgresLog = (o: PostgresOptions): string => path.join(o.dir, 'postgres.log');

/** The folder belongs to the user PostgreSQL runs as, and the folders above it let that user in. */
async function ownFolder(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (isRoot()) {
    const { uid, gid } = await systemUser();
    await fs.chown(dir, uid, gid);
  }
}

async function systemUser(): Promise<{ uid: number; gid: number }> {
  const line = (await fs.readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith(`${SYSTEM_USER}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no "${SYSTEM_USER}" system user to run PostgreSQL as`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** initdb, once: a cluster that already has data is kept as it is. */
export async function initPostgres(o: PostgresOptions): Promise<void> {
  if (existsSync(path.join(dataDir(o), 'PG_VERSION'))) return;
  await ownFolder(o.dir);
  const pwFile = path.join(o.dir, 'pwfile');
  await fs.writeFile(pwFile, `${o.password}\n`, { mode: 0o600 });
  if (isRoot()) {
    const { uid, gid } = await systemUser();
    await fs.chown(pwFile, uid, gid);
  }
  try {
    await run('initdb', [
      '--pgdata',
      dataDir(o),
      '--username',
      o.user,
      '--pwfile',
      pwFile,
      '--auth',
      'scram-sha-256',
      '--encoding',
      'UTF8',
      '--no-instructions',
    ]);
  } finally {
    await fs.rm(pwFile, { force: true });
  }
  // Four Temporal services keep up to 30 connections each (persistence + visibility pools).
  const settings = {
    listen_addresses: `'${o.host}'`,
    port: String(o.port),
    unix_socket_directories: `'${o.dir}'`,
    max_connections: '300',
  };
  const conf = Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  await fs.appendFile(path.join(dataDir(o), 'postgresql.conf'), `\n# durable-agents cluster\n${conf}\n`);
}

export async function startPostgres(o: PostgresOptions): Promise<void> {
  await run('pg_ctl', ['--pgdata', dataDir(o), '--log', postgresLog(o), '--wait', '--timeout', '60', 'start']);
}

export async function stopPostgres(o: PostgresOptions): Promise<void> {
  if (!existsSync(path.join(dataDir(o), 'postmaster.pid'))) return;
  await run('pg_ctl', ['--pgdata', dataDir(o), '--mode', 'fast', '--wait', '--timeout', '60', 'stop']);
}
