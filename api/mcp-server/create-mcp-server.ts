/**
 * Builds one MCP session's server from the API's services, whatever the transport (Streamable
 * HTTP at /mcp, or stdio): the tools, the spec:// and run:// resources, a prompt per spec, and
 * list_changed when a spec is registered.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import packageJson from '../../package.json';
import type { OrchestratorServices, SessionContext } from './orchestrator-services';
import { registerResources } from './resources';
import { SpecPrompts } from './spec-prompts';
import { registerSubscriptions } from './subscriptions';
import { registerTools } from './tools';

export const MCP_SERVER_NAME = 'durable-agents';

const INSTRUCTIONS =
  'A durable agent orchestrator on Temporal. Runs are started from registered specs (list_specs; read ' +
  "spec://<name> for a spec's inputs) with start_run, followed with wait_for_run or get_run (or read " +
  'run://<workflowId>, the id percent-encoded). A run may wait for a person: list_pending_approvals shows ' +
  'what waits, decide_approval decides it as the caller. Refusals (a missing role, a step not waiting) come ' +
  'back as tool errors that say why.';

export interface OrchestratorMcpServer {
  server: McpServer;
  /** Stops listening for spec registrations and closes the server (and its transport). */
  close(): Promise<void>;
}

export async function createOrchestratorMcpServer(
  services: OrchestratorServices,
  session: SessionContext,
): Promise<OrchestratorMcpServer> {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, title: 'Durable agents orchestrator', version: packageJson.version },
    {
      instructions: INSTRUCTIONS,
      // Log messages: a tool's unexpected failure, at level error (logging/setLevel filters them).
      capabilities: { logging: {} },
      // The largest inputs a REST start accepts are bounded by the body limit; this bounds the walk over them.
      maxToolInputElements: 100_000,
    },
  );
  registerTools(server, services, session);
  registerResources(server, services, session);
  const subscriptions = registerSubscriptions(server, services, session);

  const prompts = new SpecPrompts(server);
  let known = '';
  const sync = async () => {
    const specs = await services.catalog.specs();
    prompts.sync(specs);
    subscriptions.specsChanged(specs);
    const listing = JSON.stringify(specs.map((s) => [s.name, s.version]));
    // The resources' titles carry the version: a new version changes the list too.
    if (listing !== known && known !== '' && server.isConnected()) server.sendResourceListChanged();
    known = listing;
  };
  await sync();
  let syncing = Promise.resolve();
  const unsubscribe = services.catalog.subscribe(() => {
    syncing = syncing.then(sync).catch((err: unknown) => services.logger.warn(`MCP spec sync: ${String(err)}`));
  });

  let closed = false;
  return {
    server,
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      subscriptions.close();
      await server.close();
    },
  };
}
