import {
  GatewayTimeoutException,
  Inject,
  Injectable,
  ServiceUnavailableException,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { TemporalConfig } from '../../temporal/config';
import { historyJson } from '../../temporal/replay/history';
import { ReplayProcess, ReplayUnavailableError } from '../../temporal/replay/replay-process';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { requirePossibleId } from './history.service';
import type { ReplayVerdictView } from './history-views';
import { RunReader } from './run-reader';

/**
 * Replays a run's history against the workflow code installed with the API. The replay runs in a
 * child process (temporal/replay/replay-process.ts): bundling the code takes seconds of CPU and
 * the SDK's native replay worker has no place in the API process; the API only waits.
 */
@Injectable()
export class ReplayService implements OnModuleDestroy {
  private readonly reader: RunReader;
  private readonly replayer = new ReplayProcess();

  constructor(@Inject(TEMPORAL_CLIENT) client: Client, @Inject(TEMPORAL_CONFIG) config: TemporalConfig) {
    this.reader = new RunReader(client, config);
  }

  async replay(workflowId: string, runId?: string): Promise<ReplayVerdictView> {
    requirePossibleId(workflowId);
    const resolved = runId ?? (await this.reader.describe(workflowId)).runId;
    const history = await this.reader.history(workflowId, resolved);
    try {
      const verdict = await this.replayer.replay(historyJson(history), workflowId);
      return { ...verdict, runId: resolved };
    } catch (err) {
      if (!(err instanceof ReplayUnavailableError)) throw err;
      throw err.timedOut ? new GatewayTimeoutException(err.message) : new ServiceUnavailableException(err.message);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.replayer.close();
  }
}
