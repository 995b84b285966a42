/** The WebhookStore (webhook-store.ts): the webhook routes and every run start read it. */
export const WEBHOOK_STORE = Symbol('WEBHOOK_STORE');
