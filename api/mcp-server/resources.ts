/**
 * Resources: `spec://<name>` for each registered spec (listed; its latest version as GET
 * /specs/:name answers it) and `run://<workflowId>` (a run's summary from GET /workflows/:id;
 * not listed, there are too many). A workflow id holds ":" and so travels percent-encoded,
 * e.g. run://approval-release%3Ademo-1.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { listSpecs, storedSpecView } from '../specs/spec-listing';
import type { RunDetail } from '../workflows/run-views';
import { requireRole } from './caller';
import type { Extra, OrchestratorServices, SessionContext } from './orchestrator-services';
import { failureOf } from './tool-results';

/** The MCP code for a resource that does not exist. */
export const RESOURCE_NOT_FOUND = -32002;

export const specUri = (name: string) => `spec://${name}`;
export const runUri = (workflowId: string) => `run://${encodeURIComponent(workflowId)}`;

export function registerResources(server: McpServer, services: OrchestratorServices, session: SessionContext): void {
  const { store, runs } = services;

  server.registerResource(
    'spec',
    new ResourceTemplate('spec://{name}', {
      complete: { name: async (prefix) => (await store.names()).filter((n) => n.startsWith(prefix)).slice(0, 100) },
      list: async (extra) => {
        requireRole(session.identityOf(extra), 'viewer');
        const { specs } = await listSpecs(store);
        return {
          resources: specs.map((s) => ({
            uri: specUri(s.name),
            name: s.name,
            title: `Spec ${s.name} v${s.version}`,
            ...(s.description !== undefined && { description: s.description }),
            mimeType: 'application/json',
          })),
        };
      },
    }),
    {
      title: 'Registered spec',
      description: 'A registered workflow spec (latest version): its inputs, steps and output.',
      mimeType: 'application/json',
    },
    (uri, variables, extra) =>
      read(services, session, extra, uri, async () => {
        const name = decodedUriPart(variables.name);
        const stored = await store.get(name);
        if (!stored) throw new McpError(RESOURCE_NOT_FOUND, `spec "${name}" is not registered (see list_specs)`);
        return storedSpecView(stored);
      }),
  );

  server.registerResource(
    'run',
    new ResourceTemplate('run://{workflowId}', { list: undefined }),
    {
      title: 'Run summary',
      description:
        "A run's status, where it is (steps, pending approvals) and its output or failure; the workflow id " +
        'percent-encoded, e.g. run://approval-release%3Ademo-1.',
      mimeType: 'application/json',
    },
    (uri, variables, extra) =>
      read(services, session, extra, uri, async () =>
        runSummary(await runs.describe(decodedUriPart(variables.workflowId))),
      ),
  );
}

async function read(
  services: OrchestratorServices,
  session: SessionContext,
  extra: Extra,
  uri: URL,
  load: () => Promise<object>,
): Promise<ReadResourceResult> {
  try {
    requireRole(session.identityOf(extra), 'viewer');
    const body = await load();
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] };
  } catch (err) {
    if (err instanceof McpError) throw err;
    const failure = failureOf(err, services.logger);
    const code =
      failure.status === 404
        ? RESOURCE_NOT_FOUND
        : failure.status < 500
          ? ErrorCode.InvalidParams
          : ErrorCode.InternalError;
    throw new McpError(code, failure.message);
  }
}

export function decodedUriPart(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    throw new McpError(ErrorCode.InvalidParams, `"${text}" is not a percent-encoded name`);
  }
}

/** What a model needs to know of a run, without every step's output. */
export function runSummary(run: RunDetail): Record<string, unknown> {
  const progress = (run.progress ?? {}) as {
    phase?: string;
    current?: string[];
    steps?: Record<string, { status: string; error?: string }>;
    pendingApprovals?: unknown[];
  };
  const result = run.result as { output?: unknown } | undefined;
  return {
    workflowId: run.workflowId,
    runId: run.runId,
    spec: run.spec,
    specVersion: run.specVersion,
    status: run.status,
    startTime: run.startTime,
    closeTime: run.closeTime,
    phase: progress.phase ?? null,
    current: progress.current ?? [],
    steps: Object.fromEntries(
      Object.entries(progress.steps ?? {}).map(([path, s]) => [path, s.error ? `${s.status}: ${s.error}` : s.status]),
    ),
    pendingApprovals: progress.pendingApprovals ?? [],
    ...(result && 'output' in result && { output: result.output }),
    ...(run.failure && { failure: run.failure }),
    webUiUrl: run.webUiUrl,
  };
}
