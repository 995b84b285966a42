/**
 * The Temporal and visibility databases, made and brought to the server's schema version by the
 * server's own SQL tool and the versioned schema folders of its module: create-database, then
 * setup-schema -v 0.0 (the version table) on a new database, then update-schema (every step
 * from the database's version to the newest; also how an upgrade of the server is applied).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface SchemaTarget {
  sqlTool: string;
  /** schema/postgresql/v12 of the server module. */
  schemaDir: string;
  host: string;
  port: number;
  user: string;
  password: string;
}

export const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;

export async function setUpSchemas(t: SchemaTarget, log: (line: string) => void): Promise<void> {
  for (const [kind, database] of Object.entries(DATABASES)) {
    const created = await sqlTool(t, database, ['create-database']).then(
      () => true,
      (err: Error) => {
        if (/already exists/.test(err.message)) return false;
        throw err;
      },
    );
    if (created) await sqlTool(t, database, ['setup-schema', '--version', '0.0']);
    await sqlTool(t, database, ['update-schema', '--schema-dir', path.join(t.schemaDir, kind, 'versioned')]);
    log(`database ${database}: ${created ? 'created, ' : ''}schema up to date`);
  }
}

function sqlTool(t: SchemaTarget, database: string, command: string[]): Promise<string> {
  const args = ['--plugin', 'postgres12', '--endpoint', t.host, '--port', String(t.port), '--database', database];
  return new Promise((resolve, reject) => {
    execFile(
      t.sqlTool,
      [...args, ...command],
      // The password through the environment, not the process list.
      { env: { ...process.env, SQL_USER: t.user, SQL_PASSWORD: t.password }, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`temporal-sql-tool ${command[0]} on ${database} failed: ${stdout}${stderr}`));
        else resolve(stdout);
      },
    );
  });
}
