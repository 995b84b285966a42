/**
 * resources/subscribe: a client subscribed to `run://<id>` is sent notifications/resources/updated
 * whenever the run's summary changes (read every `waitPollMs` while the run is open, as
 * wait_for_run reads it), one to `spec://<name>` when a new version of the spec is registered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ErrorCode,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Spec } from '../../workflows/contracts/spec';
import { requireRole } from './caller';
import type { OrchestratorServices, SessionContext } from './orchestrator-services';
import { decodedUriPart, RESOURCE_NOT_FOUND, runSummary } from './resources';
import { failureOf } from './tool-results';

/** Subscriptions a session may hold at once. */
export const MAX_SUBSCRIPTIONS = 100;
const OPEN_STATUSES = new Set(['running', 'paused']);

export interface Subscriptions {
  /** The registered specs now: a subscribed spec with a new version is announced. */
  specsChanged(specs: Spec[]): void;
  close(): void;
}

export function registerSubscriptions(
  server: McpServer,
  services: OrchestratorServices,
  session: SessionContext,
): Subscriptions {
  /** Subscribed URI → what stops following it (runs), or the spec version last seen (specs). */
  const runs = new Map<string, AbortController>();
  const specs = new Map<string, number | undefined>();
  const announce = (uri: string) => server.server.sendResourceUpdated({ uri }).catch(() => undefined);

  server.server.registerCapabilities({ resources: { subscribe: true } });

  server.server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
    requireRole(session.identityOf(extra), 'viewer');
    const { uri } = request.params;
    if (runs.has(uri) || specs.has(uri)) return {};
    if (runs.size + specs.size >= MAX_SUBSCRIPTIONS) {
      throw new McpError(ErrorCode.InvalidRequest, `at most ${MAX_SUBSCRIPTIONS} subscriptions per session`);
    }
    const [scheme, rest] = splitUri(uri);
    if (scheme === 'spec') {
      const stored = await services.store.get(decodedUriPart(rest));
      if (!stored) throw new McpError(RESOURCE_NOT_FOUND, `spec "${rest}" is not registered`);
      specs.set(uri, stored.version);
      return {};
    }
    if (scheme !== 'run') throw new McpError(RESOURCE_NOT_FOUND, `no resource ${uri}: subscribe to run:// or spec://`);
    const workflowId = decodedUriPart(rest);
    let first;
    try {
      first = await services.runs.describe(workflowId);
    } catch (err) {
      const failure = failureOf(err, services.logger);
      throw new McpError(failure.status === 404 ? RESOURCE_NOT_FOUND : ErrorCode.InvalidParams, failure.message);
    }
    const stop = new AbortController();
    runs.set(uri, stop);
    void follow(JSON.stringify(runSummary(first)), OPEN_STATUSES.has(first.status));

    async function follow(last: string, open: boolean): Promise<void> {
      try {
        while (open) {
          await sleep(services.waitPollMs, undefined, { signal: stop.signal });
          const run = await services.runs.describe(workflowId).catch(() => undefined);
          if (!run) continue; // Temporal unreachable for a moment: read again next time.
          const now = JSON.stringify(runSummary(run));
          if (now !== last) await announce(uri);
          last = now;
          open = OPEN_STATUSES.has(run.status);
        }
      } catch {
        // Aborted: unsubscribed, or the session closed.
      } finally {
        if (runs.get(uri) === stop) runs.delete(uri);
      }
    }
    return {};
  });

  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    const { uri } = request.params;
    runs.get(uri)?.abort();
    runs.delete(uri);
    specs.delete(uri);
    return {};
  });

  return {
    specsChanged(all) {
      for (const spec of all) {
        const uri = `spec://${spec.name}`;
        if (!specs.has(uri) || specs.get(uri) === spec.version) continue;
        specs.set(uri, spec.version);
        void announce(uri);
      }
    },
    close() {
      for (const stop of runs.values()) stop.abort();
      runs.clear();
      specs.clear();
    },
  };
}

function splitUri(uri: string): [string, string] {
  const match = /^([a-z]+):\/\/(.+)$/.exec(uri);
  return match ? [match[1] as string, match[2] as string] : ['', ''];
}
