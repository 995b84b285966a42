import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Identity } from '../../workflows/contracts/identity';
import type { InboxService } from '../approvals/inbox.service';
import type { PublicUrls } from '../approvals/public-urls';
import type { SpecStore } from '../specs/spec-store';
import type { WorkflowsService } from '../workflows/workflows.service';
import type { SpecCatalog } from './spec-catalog';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What every MCP session of this process uses: the API's own services. */
export interface OrchestratorServices {
  runs: WorkflowsService;
  inbox: InboxService;
  store: SpecStore;
  catalog: SpecCatalog;
  /** Links the approvals inbox hands out, for the request being served. */
  urls(extra: Extra): PublicUrls;
  waitPollMs: number;
  /** Resolves when the workflow's current execution closes (execution-closed.ts). */
  executionClosed(workflowId: string, signal: AbortSignal): Promise<void>;
  logger: { warn(message: string): void; error(message: string): void };
}

/** What differs between sessions: who calls. */
export interface SessionContext {
  /** The HTTP request's verified identity (its AuthInfo), or the stdio process's own. */
  identityOf(extra: Extra): Identity | undefined;
}
