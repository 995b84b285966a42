import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { ServerResponse } from 'node:http';
import type { TemporalConfig } from '../../temporal/config';
import type { RunEvent } from '../../workflows/contracts/run-events';
import { requirePossibleId } from '../history/history.service';
import { RunReader } from '../history/run-reader';
import { describeTemporalError } from '../temporal/temporal-errors';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { compareRunEventIds, parseRunEventId, type RunEventId } from './event-ids';
import { historyToRunEvents } from './history-events';
import { followRun, type FollowerDeps } from './run-follower';
import type { SpecCursor } from './spec-cursor';
import { followSpec } from './spec-follower';
import { SseStream, type SseOptions } from './sse-stream';

/** Timings of the streams; tests shorten them. */
export interface EventStreamTimings extends SseOptions {
  progressEveryMs: number;
  discoverEveryMs: number;
}

export const DEFAULT_EVENT_STREAM_TIMINGS: EventStreamTimings = {
  keepAliveMs: 15_000,
  retryMs: 3_000,
  progressEveryMs: 1_000,
  discoverEveryMs: 2_000,
};

export const EVENT_STREAM_TIMINGS = Symbol('EVENT_STREAM_TIMINGS');

/** The streams of run events: one run's (GET /workflows/:id/events) and a spec's (GET /events). */
@Injectable()
export class EventsService implements OnModuleDestroy {
  private readonly logger = new Logger('EventsService');
  private readonly reader: RunReader;
  private readonly deps: FollowerDeps;
  private readonly open = new Set<SseStream>();

  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) config: TemporalConfig,
    @Inject(EVENT_STREAM_TIMINGS) private readonly timings: EventStreamTimings,
  ) {
    this.reader = new RunReader(client, config);
    const converter = client.options.loadedDataConverter.payloadConverter;
    this.deps = {
      client,
      namespace: config.namespace,
      progressEveryMs: timings.progressEveryMs,
      decode: (payload: Payload | null | undefined) => {
        if (!payload) return undefined;
        try {
          return converter.fromPayload<unknown>(payload);
        } catch {
          return undefined;
        }
      },
    };
  }

  /** The run's chain (first execution first) and whether its last execution is closed; not found → 404. */
  async runChain(workflowId: string): Promise<{ chain: string[]; closed: boolean }> {
    requirePossibleId(workflowId);
    const latest = await this.reader.describe(workflowId);
    const chain = await this.reader.chain(workflowId, latest.runId);
    return { chain, closed: latest.status.name !== 'RUNNING' };
  }

  /** Every event of a closed run's chain, rebuilt from its histories. */
  async rebuild(workflowId: string, chain: string[]): Promise<RunEvent[]> {
    const histories = [];
    for (const runId of chain) histories.push({ runId, history: await this.reader.history(workflowId, runId) });
    return historyToRunEvents(workflowId, histories, this.deps.decode);
  }

  /**
   * Streams one run: a closed run's remaining events at once (204 when the client has them all, so
   * EventSource stops reconnecting), a running one's as they happen, until run.finished.
   */
  async streamRun(res: ServerResponse, workflowId: string, after: RunEventId | undefined): Promise<void> {
    const { chain, closed } = await this.runChain(workflowId);
    if (closed) {
      const events = (await this.rebuild(workflowId, chain)).filter((e) => isAfter(e, after));
      if (after && events.length === 0) {
        res.writeHead(204).end();
        return;
      }
      await this.withStream(res, async (sse) => {
        for (const event of events) await sse.send(event.id, event.type, event);
      });
      return;
    }
    await this.withStream(res, async (sse) => {
      await followRun(this.deps, {
        workflowId,
        chain,
        after,
        signal: sse.signal,
        send: (event) => sse.send(event.id, event.type, event),
      });
    });
  }

  /** Streams every run of `spec` from now (or the cursor) on; ends only when the client leaves. */
  async streamSpec(res: ServerResponse, spec: string, cursor: SpecCursor | undefined): Promise<void> {
    await this.withStream(res, async (sse) => {
      await followSpec(
        {
          ...this.deps,
          discoverEveryMs: this.timings.discoverEveryMs,
          chainOf: async (workflowId) => (await this.runChain(workflowId)).chain,
        },
        { spec, cursor, signal: sse.signal, send: (id, event) => sse.send(id, event.type, event) },
      );
    });
  }

  /** Open streams end when the API shuts down (the clients reconnect to the next one). */
  onModuleDestroy(): void {
    for (const sse of this.open) sse.end();
  }

  private async withStream(res: ServerResponse, fn: (sse: SseStream) => Promise<void>): Promise<void> {
    const sse = new SseStream(res, this.timings);
    this.open.add(sse);
    try {
      await fn(sse);
    } catch (err) {
      // Headers are sent: say what went wrong in a comment and end; the client resumes with Last-Event-ID.
      if (!sse.closed) {
        this.logger.warn(`event stream ended: ${describeTemporalError(err)}`);
        sse.comment(`error: ${describeTemporalError(err)}`);
      }
    } finally {
      this.open.delete(sse);
      sse.end();
    }
  }
}

function isAfter(event: RunEvent, after: RunEventId | undefined): boolean {
  if (!after) return true;
  const id = parseRunEventId(event.id);
  return id !== undefined && compareRunEventIds(id, after) > 0;
}
