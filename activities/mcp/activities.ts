import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import type { McpToolActivities, ToolCallInput, ToolCatalogue, ToolOutput } from '../../workflows/contracts/tool';
import { BlobStore } from './blob-store';
import { askTheRun } from './client-requests/ask-run';
import { toFailure } from './failures';
import { takeInventory, type InventoryRequest, type McpInventory } from './inventory';
import type { McpClientPool } from './pool';
import { toToolOutput } from './tool-output';

export interface McpActivityDeps {
  pool: McpClientPool;
  /** Where images and binary resources returned by tools are stored; only their hash is kept without it. */
  blobDir?: string;
}

/** How often a running call heartbeats: also how soon it learns that the step was cancelled. */
function heartbeatEveryMs(heartbeatTimeoutMs: number | undefined): number {
  return Math.max(100, Math.min(1000, (heartbeatTimeoutMs ?? 2000) / 2));
}

/**
 * How long connecting (spawn + initialize) and listing may take within an attempt: less than its
 * start-to-close timeout (by a quarter, at most 5 s), so the step fails with the pool's own error
 * (naming the server and what it printed) rather than a bare activity timeout, even when the
 * activity started a little after the server's clock did.
 */
export function connectBudgetMs(startToCloseTimeoutMs: number | undefined): number | undefined {
  if (!startToCloseTimeoutMs) return undefined;
  return Math.round(startToCloseTimeoutMs - Math.min(5000, startToCloseTimeoutMs / 4));
}

export function createMcpActivities(deps: McpActivityDeps) {
  const { pool } = deps;
  const blobs = new BlobStore(deps.blobDir);

  const activities = {
    async mcpListTools({ server, fresh }: { server: string; fresh?: boolean }): Promise<ToolCatalogue> {
      const ctx = Context.current();
      const beat = ctx.info.heartbeatTimeoutMs
        ? setInterval(() => ctx.heartbeat(), heartbeatEveryMs(ctx.info.heartbeatTimeoutMs))
        : undefined;
      try {
        const conn = pool.connection(server);
        const tools = await conn.listTools(fresh, {
          signal: ctx.cancellationSignal,
          timeoutMs: connectBudgetMs(ctx.info.startToCloseTimeoutMs),
        });
        const fetchedAt = conn.catalogue.peek()?.fetchedAt ?? Date.now();
        return {
          server,
          tools: tools.map((t) =>
            t.description === undefined
              ? { name: t.name, inputSchema: t.inputSchema }
              : { name: t.name, description: t.description, inputSchema: t.inputSchema },
          ),
          fetchedAt: new Date(fetchedAt).toISOString(),
        };
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw toFailure(err, `tools/list on ${server}`);
      } finally {
        clearInterval(beat);
      }
    },

    async mcpCallTool(input: ToolCallInput): Promise<ToolOutput> {
      const ctx = Context.current();
      const address = `${input.server}.${input.tool}`;
      let progress: Progress | undefined;
      const server = pool.config.servers[input.server];
      // No heartbeat up front: a quick call then completes without an extra round trip to the server.
      const beat = setInterval(() => ctx.heartbeat(progress), heartbeatEveryMs(ctx.info.heartbeatTimeoutMs));
      try {
        const result = await pool.callTool(input.server, input.tool, input.arguments, {
          signal: ctx.cancellationSignal,
          timeoutMs: ctx.info.startToCloseTimeoutMs,
          connectTimeoutMs: connectBudgetMs(ctx.info.startToCloseTimeoutMs),
          onProgress: (p) => {
            progress = p;
            ctx.heartbeat(p);
          },
          // What the server asks meanwhile goes to the run (where its config allows it to ask).
          ...(server && { clientRequests: askTheRun(ctx, server, input.step) }),
        });
        const output = await toToolOutput(result, blobs);
        if (result.isError) {
          throw ApplicationFailure.create({
            type: 'McpToolError',
            message: `${address}: ${output.text || 'the tool reported an error'}`,
            nonRetryable: true,
            details: [output],
          });
        }
        return output;
      } catch (err) {
        // The SDK rejects an aborted request with an McpError; what happened is the cancellation.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw toFailure(err, address);
      } finally {
        clearInterval(beat);
      }
    },

    /** The pool of the worker that runs it; the API reaches it through a one-step run. */
    async mcpInventory(req: InventoryRequest = {}): Promise<McpInventory> {
      return takeInventory(pool, req);
    },
  } satisfies McpToolActivities & Record<string, (...args: never[]) => Promise<unknown>>;
  return activities;
}

export type McpActivities = ReturnType<typeof createMcpActivities>;
