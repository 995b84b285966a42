/**
 * The messages a session sent on its SSE streams, kept so a client that lost a stream can resume
 * it (Last-Event-ID). In memory and bounded: past `capacity` the oldest go, and a client resuming
 * from before them gets what is left. Dies with its session.
 */
import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** `<stream id>~<sequence>`: the stream is known from the id even after its events were dropped. */
const SEPARATOR = '~';

export class BoundedEventStore implements EventStore {
  private readonly events = new Map<EventId, { streamId: StreamId; seq: number; message: JSONRPCMessage }>();
  private seq = 0;

  constructor(private readonly capacity: number) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const seq = ++this.seq;
    const id = `${streamId}${SEPARATOR}${seq}`;
    this.events.set(id, { streamId, seq, message });
    if (this.events.size > this.capacity) this.events.delete(this.events.keys().next().value as EventId);
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return parse(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const last = parse(lastEventId);
    if (!last) return '';
    for (const [id, event] of this.events) {
      // Priming events (empty, only an id to resume from) are not sent again.
      if (!('jsonrpc' in event.message)) continue;
      if (event.streamId === last.streamId && event.seq > last.seq) await send(id, event.message);
    }
    return last.streamId;
  }

  get size(): number {
    return this.events.size;
  }
}

function parse(eventId: EventId): { streamId: StreamId; seq: number } | undefined {
  const at = eventId.lastIndexOf(SEPARATOR);
  const seq = Number(eventId.slice(at + 1));
  if (at <= 0 || !Number.isSafeInteger(seq)) return undefined;
  return { streamId: eventId.slice(0, at), seq };
}
