/**
 * Workflow histories as Temporal's own tools read and write them: fetched from the server, or
 * parsed from the JSON file the CLI (`temporal workflow show --output json`) and the Web UI
 * ("Download") produce, and written back in that format.
 */
import { codecsOf, decryptPayloadsInPlace } from '../codec/data-converter';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A history file (or body) that is not a Temporal history; the message says what is wrong. */
export class HistoryFormatError extends Error {
  override readonly name = 'HistoryFormatError';
}

/** Every event of one execution: `runId`, or the latest run of `workflowId` without it. */
export async function fetchHistory(client: Client, workflowId: string, runId?: string): Promise<History> {
  // Decrypted with the client's codecs (PAYLOAD_ENCRYPTION_KEYS): readers decode payloads as plain JSON.
  return decryptPayloadsInPlace(await client.workflow.getHandle(workflowId, runId).fetchHistory(), codecsOf(client));
}

/** The history as JSON text in the format of the CLI and the Web UI (`{ "events": [...] }`). */
export function historyJson(history: History): string {
  return historyToJSON(history);
}

/** Parses history JSON text; anything that is not a Temporal history is a HistoryFormatError. */
export function parseHistoryJson(text: string): History {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new HistoryFormatError(`not JSON: ${(err as Error).message}`);
  }
  const events = (raw as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new HistoryFormatError('not a workflow history: expected an object with a non-empty "events" array');
  }
  let history: History;
  try {
    history = historyFromJSON(raw);
  } catch (err) {
    throw new HistoryFormatError(`not a workflow history: ${(err as Error).message}`);
  }
  const first = history.events?.[0];
  if (!first?.workflowExecutionStartedEventAttributes) {
    throw new HistoryFormatError('not a workflow history: the first event is not WorkflowExecutionStarted');
  }
  return history;
}

/** `ACTIVITY_TASK_SCHEDULED` (or its number) → `ActivityTaskScheduled`, as the Web UI names events. */
export function eventTypeName(event: HistoryEvent): string {
  const type = event.eventType;
  const name = typeof type === 'string' ? type : (temporal.api.enums.v1.EventType[type ?? 0] ?? 'UNSPECIFIED');
  return name
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase());
}

/** An event id as a number (the protobuf type is a Long). */
export function eventIdOf(event: HistoryEvent): number {
  return Number(event.eventId ?? 0);
}

/** A payload of a history event as plain data (the default JSON converter); undefined when absent or undecodable. */
export function decodePayload(payload: Payload | null | undefined): unknown {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload<unknown>(payload);
  } catch {
    return undefined;
  }
}
