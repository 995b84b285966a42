/**
 * The orchestrator worker's webhook settings, from the environment:
 * - WEBHOOK_ALLOWED_HOSTS: non-public addresses deliveries may reach, in HTTP_ALLOWED_HOSTS' format
 *   (`127.0.0.1:9000`, `[::1]:9000`, `10.0.0.5`). Public addresses need no entry; a loopback,
 *   private or otherwise non-public one is refused unless an entry names the address itself.
 * - SIGNING_SECRET / SIGNING_SECRET_FILE: what each subscription's secret is derived from.
 * - API_PUBLIC_URL: the base of approve/reject links in approval deliveries (default, as the API's:
 *   http://<API_HOST>:<API_PORT>).
 */
import { z } from 'zod';
import { parseConfig } from '../../config/config-errors';
import { loadSigningSecret } from '../identity/signing';
import { parseAllowEntry } from '../outbound/allow-list';

export interface WebhookWorkerConfig {
  allowedHosts: string[];
  /** Absent: deliveries wait (retrying) for the worker to be given one. */
  signingSecret?: string;
  /** Where approve/reject links point (the API's address as its users reach it). */
  publicUrl: string;
}

const schema = z.object({
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .superRefine((entries, ctx) => {
      for (const entry of entries) {
        try {
          parseAllowEntry(entry);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }
    }),
  API_PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. https://agents.example.com' })
    .optional(),
});

export function loadWebhookWorkerConfig(env: NodeJS.ProcessEnv = process.env): WebhookWorkerConfig {
  const c = parseConfig(schema, env, 'environment');
  const signingSecret = loadSigningSecret(env);
  return {
    allowedHosts: c.WEBHOOK_ALLOWED_HOSTS,
    ...(signingSecret !== undefined && { signingSecret }),
    publicUrl: (c.API_PUBLIC_URL ?? defaultApiUrl(env)).replace(/\/+$/, ''),
  };
}

/** The API's own default when API_PUBLIC_URL is not set: http://<API_HOST>:<API_PORT>. */
function defaultApiUrl(env: NodeJS.ProcessEnv): string {
  const host = env.API_HOST || '127.0.0.1';
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${env.API_PORT || 3000}`;
}
