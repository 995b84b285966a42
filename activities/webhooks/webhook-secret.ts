/**
 * A subscription's Standard Webhooks secret (`whsec_` + base64 key), derived from the server's
 * signing secret and the subscription id rather than stored: the API shows it to the admin who
 * subscribes, the worker signs with it, and neither keeps it anywhere. Rotating SIGNING_SECRET
 * changes every subscription's secret.
 */
import { deriveKey } from '../identity/signing';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

export function webhookSecret(signingSecret: string, subscriptionId: string): string {
  return `${WEBHOOK_SECRET_PREFIX}${deriveKey(signingSecret, 'webhook', subscriptionId).toString('base64')}`;
}
