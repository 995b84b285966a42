/**
 * The client under test in the conformance suite's client scenarios. The suite runs
 * `<node> <tsx> conformance/client-entry.ts <server-url>` with MCP_CONFORMANCE_SCENARIO (and, for
 * some auth scenarios, MCP_CONFORMANCE_CONTEXT) set, against a scenario server it started.
 *
 * It is the worker's MCP client, not a bare SDK client: the scenario server is written into a
 * `.mcp.json`, read by the worker's config loader, and reached through McpClientPool and its
 * ServerConnection, so whatever the pool declares and handles (capabilities, auth) is what the
 * suite sees. It lists the server's tools and calls each one, as a step would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadMcpConfig } from '../activities/mcp/config/load';
import { McpClientPool } from '../activities/mcp/pool';
import type { ClientRequestHandlers } from '../activities/mcp/client-requests/router';
import { serverEntryFor, type ScenarioContext } from './client-server-entry';
import { argumentsFor } from './tool-arguments';

const SERVER = 'scenario';
/** Well under the suite's own 30 s per scenario, so a hang ends with our error rather than its kill. */
const CALL_TIMEOUT_MS = 20_000;

/**
 * Stands in for the person a run would ask (the worker routes elicitation to the run's pending
 * input): accepts and leaves every field as it is, so the declared `applyDefaults` fills in the
 * requested schema's defaults.
 */
const answerAsPerson: ClientRequestHandlers = {
  elicit: (params) => {
    console.log(`elicitation/create: "${params.message}" -> accept, defaults`);
    return Promise.resolve({ action: 'accept', content: {} });
  },
};

function scenarioContext(): ScenarioContext {
  const raw = process.env.MCP_CONFORMANCE_CONTEXT;
  return raw ? (JSON.parse(raw) as ScenarioContext) : {};
}

async function main(): Promise<number> {
  const url = process.argv[2];
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '(none)';
  if (!url) {
    console.error('usage: client-entry.ts <server-url> (the conformance suite appends it)');
    return 2;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'conformance-client-'));
  const { entry, env } = serverEntryFor(url, scenario, scenarioContext());
  writeFileSync(path.join(dir, '.mcp.json'), JSON.stringify({ mcpServers: { [SERVER]: entry } }, null, 2));
  // Tokens and registrations go to this run's folder, never the user's MCP_OAUTH_DIR.
  const config = loadMcpConfig({ location: dir, required: true }, { ...process.env, ...env, MCP_OAUTH_DIR: dir });
  const pool = new McpClientPool(config, {
    clientInfo: { name: 'durable-agents-orchestrator', version: '0.1.0' },
    connectTimeoutMs: CALL_TIMEOUT_MS,
    connectBackoff: { maxMs: 0 },
  });
  try {
    const tools = await pool.listTools(SERVER, true, { timeoutMs: CALL_TIMEOUT_MS });
    console.log(`${scenario}: ${tools.length} tool(s): ${tools.map((t) => t.name).join(', ') || '(none)'}`);
    for (const tool of tools) {
      const args = argumentsFor(tool);
      const result = await pool.callTool(SERVER, tool.name, args, {
        timeoutMs: CALL_TIMEOUT_MS,
        clientRequests: answerAsPerson,
      });
      const text = result.content
        .map((c) => (c.type === 'text' ? c.text : `[${c.type}]`))
        .join(' ')
        .slice(0, 200);
      console.log(`${tool.name}(${JSON.stringify(args)}) -> ${result.isError ? 'error: ' : ''}${text}`);
    }
    return 0;
  } catch (err) {
    console.error(`${scenario}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return 1;
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
