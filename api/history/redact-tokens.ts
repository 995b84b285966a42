/**
 * History as the API shows it, without the credentials a run was sent: the `token` of each
 * `approve` signal and the token argument of each verifyDecisionToken activity read "[redacted]".
 * The workflow treats the token as opaque (the activity's recorded answer decides), so a redacted
 * history replays exactly as the original does. Only the events that carry a token are copied.
 */
import type { PayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { History, HistoryEvent } from '../../temporal/replay/history';
import { approveSignal, type IdentityActivities } from '../../workflows/contracts/run';

export const REDACTED = '[redacted]';
const TOKEN_ACTIVITY: keyof IdentityActivities = 'verifyDecisionToken';

type Payload = temporal.api.common.v1.IPayload;

export function redactDecisionTokens(history: History, converter: PayloadConverter): History {
  const redacted = (history.events ?? []).map((event) => redactEvent(event, converter));
  return { ...history, events: redacted };
}

function redactEvent(event: HistoryEvent, converter: PayloadConverter): HistoryEvent {
  const signal = event.workflowExecutionSignaledEventAttributes;
  const signalled = signal?.input?.payloads;
  if (signal?.signalName === approveSignal.name && signalled?.length) {
    const input = { ...signal.input, payloads: [redactSignalInput(signalled[0]!, converter), ...signalled.slice(1)] };
    return { ...event, workflowExecutionSignaledEventAttributes: { ...signal, input } };
  }
  const scheduled = event.activityTaskScheduledEventAttributes;
  const args = scheduled?.input?.payloads;
  if (scheduled?.activityType?.name === TOKEN_ACTIVITY && args?.length) {
    const input = { ...scheduled.input, payloads: [converter.toPayload(REDACTED), ...args.slice(1)] };
    return { ...event, activityTaskScheduledEventAttributes: { ...scheduled, input } };
  }
  return event;
}

/** `{ ..., token: "[redacted]" }`; a payload that cannot be read is replaced whole (it may hold a token). */
function redactSignalInput(payload: Payload, converter: PayloadConverter): Payload {
  let value: unknown;
  try {
    value = converter.fromPayload(payload);
  } catch {
    return converter.toPayload(REDACTED);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return payload;
  const input = value as Record<string, unknown>;
  if (!('token' in input)) return payload;
  return converter.toPayload({ ...input, token: REDACTED });
}
