/**
 * Absolute URLs the inbox and signed links hand out: API_PUBLIC_URL when configured (behind a
 * proxy the request's own host is not what a mail recipient can reach), else this request's
 * origin; the Web UI from TEMPORAL_UI_URL.
 */
import { runUrl, type TemporalConfig } from '../../temporal/config';
import type { AuthOptions } from '../auth/auth-options';

export interface OriginRequest {
  protocol: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface PublicUrls {
  /** `<base>/workflows/<id>` */
  run(workflowId: string): string;
  /** `<base>/workflows/<id>/approvals/<stepId>` */
  decide(workflowId: string, stepId: string): string;
  /** The run in the Temporal Web UI. */
  webUi(workflowId: string): string;
  base: string;
}

/** The origin a request was addressed to (Host header); loopback when there is none. */
export function requestOrigin(req: OriginRequest): string {
  const host = req.headers.host;
  return `${req.protocol}://${typeof host === 'string' && host.length > 0 ? host : '127.0.0.1'}`;
}

export function publicUrls(auth: AuthOptions, temporal: TemporalConfig, req: OriginRequest): PublicUrls {
  const base = (auth.publicUrl ?? requestOrigin(req)).replace(/\/+$/, '');
  const ui = { ...temporal, uiUrl: (auth.temporalUiUrl ?? temporal.uiUrl).replace(/\/+$/, '') };
  const run = (id: string) => `${base}/workflows/${encodeURIComponent(id)}`;
  return {
    base,
    run,
    decide: (id, stepId) => `${run(id)}/approvals/${encodeURIComponent(stepId)}`,
    webUi: (id) => runUrl(ui, id),
  };
}
