/**
 * `npm run mcp:login -- <server> [--timeout <seconds>]`: logs in to an OAuth-protected MCP server
 * of the worker's config (MCP_CONFIG, MCP_ENV as for the worker) and stores its tokens for the
 * worker. Exit code 0 on success, 1 with a message otherwise.
 */
import { ConfigError } from '../../../config/config-errors';
import { loadMcpConfig } from '../config/load';
import { login } from './login';

const USAGE = 'usage: npm run mcp:login -- <server> [--timeout <seconds>]';

function parseArgs(argv: string[]): { server: string; timeoutMs: number } {
  let server: string | undefined;
  let timeoutMs = 300_000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--timeout') {
      const seconds = Number(argv[++i]);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--timeout needs a number of seconds\n${USAGE}`);
      timeoutMs = seconds * 1000;
    } else if (arg.startsWith('-') || server !== undefined) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    else server = arg;
  }
  if (!server) throw new Error(USAGE);
  return { server, timeoutMs };
}

async function main(): Promise<void> {
  const { server: name, timeoutMs } = parseArgs(process.argv.slice(2));
  const env = process.env;
  const config = loadMcpConfig({
    location: env.MCP_CONFIG ?? process.cwd(),
    envName: env.MCP_ENV ?? env.NODE_ENV,
    required: env.MCP_CONFIG !== undefined,
  });
  const server = config.servers[name];
  if (!server) {
    const known = Object.keys(config.servers).join(', ') || 'none';
    throw new Error(`no MCP server "${name}" in ${config.files.join(', ') || 'the config'} (configured: ${known})`);
  }
  if (server.transport === 'stdio') throw new Error(`mcpServers.${name} is a stdio server: OAuth is for HTTP servers`);
  await login(server, { print: (line) => console.log(line), timeoutMs });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof ConfigError || err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
