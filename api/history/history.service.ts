import { codecsOf, decryptPayloadsInPlace } from '../../temporal/codec/data-converter';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { TemporalConfig } from '../../temporal/config';
import { historyJson } from '../../temporal/replay/history';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import type { StepTimeline } from './history-views';
import { redactDecisionTokens } from './redact-tokens';
import { RunReader } from './run-reader';
import { allSteps, stepIdOfPath } from './spec-steps';
import { buildTimeline, type ExecutionSteps, type PendingActivity } from './step-timeline';

/** Temporal's limit on workflow ids (UTF-8 bytes): a longer one names no run. */
const MAX_WORKFLOW_ID_BYTES = 1000;

export function requirePossibleId(workflowId: string): void {
  if (Buffer.byteLength(workflowId) > MAX_WORKFLOW_ID_BYTES) {
    throw new NotFoundException(`run "${workflowId.slice(0, 40)}..." not found (no id is that long)`);
  }
}

/** A run's history as Temporal tools export it, and its steps as a timeline. */
@Injectable()
export class HistoryService {
  private readonly reader: RunReader;

  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) config: TemporalConfig,
  ) {
    this.reader = new RunReader(client, config);
  }

  /**
   * The history JSON text of `runId` (default the latest run) and the run id it belongs to, with
   * the tokens of signalled decisions redacted (it still replays the same).
   */
  async historyJson(workflowId: string, runId?: string): Promise<{ runId: string; json: string }> {
    requirePossibleId(workflowId);
    const resolved = runId ?? (await this.reader.describe(workflowId)).runId;
    const history = await this.reader.history(workflowId, resolved);
    const converter = this.client.options.loadedDataConverter.payloadConverter;
    return { runId: resolved, json: historyJson(redactDecisionTokens(history, converter)) };
  }

  async steps(workflowId: string, runId?: string): Promise<StepTimeline> {
    requirePossibleId(workflowId);
    const last = await this.reader.describe(workflowId, runId);
    const runs = await this.reader.chain(workflowId, last.runId);
    const executions: ExecutionSteps[] = [];
    for (const [i, id] of runs.entries()) {
      const description = id === last.runId ? last : await this.reader.describe(workflowId, id);
      const history = await this.reader.history(workflowId, id);
      const records = await this.reader.stepRecords(description, history);
      const first = history.events?.[0];
      const input = first && this.reader.inputOf(first);
      const kinds = new Map(allSteps(input?.spec?.steps ?? []).map((s) => [s.id, s.kind]));
      executions.push({
        runId: id,
        history,
        records,
        pending: pendingActivities(decryptPayloadsInPlace(description.raw.pendingActivities, codecsOf(this.client))),
        // Only a chain's first execution can hold a rerun's carried steps; later ones carry their own.
        reused: i === 0 ? new Set(Object.keys(input?.resume?.steps ?? {})) : undefined,
        kindOf: (path) => kinds.get(stepIdOfPath(path)) ?? null,
      });
    }
    return {
      workflowId,
      runId: last.runId,
      runs,
      steps: buildTimeline(workflowId, executions),
    };
  }
}

function pendingActivities(
  raw:
    | Array<{ activityId?: string | null; attempt?: number | null; lastFailure?: { message?: string | null } | null }>
    | null
    | undefined,
): PendingActivity[] {
  return (raw ?? []).flatMap((p) =>
    p.activityId
      ? [{ activityId: p.activityId, attempt: p.attempt ?? 1, lastFailure: p.lastFailure?.message ?? undefined }]
      : [],
  );
}
