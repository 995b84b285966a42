/**
 * One page of a Temporal visibility listing behind the API's sealed page tokens (page-token.ts):
 * a token this listing did not hand out is a 400 before it reaches Temporal, and one Temporal can
 * no longer use (its data changed under it) is a 400 too, not the server's internal error.
 * Shared by GET /workflows, GET /approvals and GET /webhooks/:id/deliveries.
 */
import { codecsOf, decryptPayloadsInPlace } from '../../temporal/codec/data-converter';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { temporalErrorToHttp } from '../temporal/temporal-errors';
import { RequestValidationError } from '../validation/request-validation.error';
import { openPageToken, sealPageToken } from './page-token';

export interface VisibilityPageRequest {
  query: string;
  pageSize: number;
  /** A token an earlier page of this listing handed out. */
  nextPageToken?: string;
  /** What a token is bound to; default `query` (a listing whose query text moves binds its filter instead). */
  pagingKey?: string;
}

export interface VisibilityPage {
  executions: temporal.api.workflow.v1.IWorkflowExecutionInfo[];
  /** Sealed; absent on the last page. */
  nextPageToken?: string;
}

const badPageToken = () =>
  new RequestValidationError([
    { path: 'nextPageToken', message: 'not a page token of this listing; list again without it' },
  ]);

export async function listVisibilityPage(
  client: Client,
  namespace: string,
  request: VisibilityPageRequest,
): Promise<VisibilityPage> {
  const pagingKey = request.pagingKey ?? request.query;
  let pageToken: Uint8Array | undefined;
  if (request.nextPageToken !== undefined) {
    pageToken = openPageToken(request.nextPageToken, pagingKey);
    if (!pageToken) throw badPageToken();
  }
  // The raw call, not client.workflow.list(): only it hands back the server's page token.
  const response = await client.workflowService
    .listWorkflowExecutions({ namespace, query: request.query, pageSize: request.pageSize, nextPageToken: pageToken })
    .catch((err: unknown) => {
      const status = temporalErrorToHttp(err)?.statusCode;
      if (pageToken !== undefined && status !== 503 && status !== 504) throw badPageToken();
      throw err;
    });
  decryptPayloadsInPlace(response.executions, codecsOf(client));
  const token = response.nextPageToken;
  return {
    executions: response.executions ?? [],
    ...(token?.length ? { nextPageToken: sealPageToken(token, pagingKey) } : {}),
  };
}
