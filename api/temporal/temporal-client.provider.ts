import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { TemporalConfig } from '../../temporal/config';
import { temporalConnectOptions } from '../../temporal/connection';
import type { Tracing } from '../../temporal/tracing';
import { OWNS_TEMPORAL_CONNECTION, TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { checkTemporal } from './temporal-health';

/**
 * The connection is lazy (Connection.lazy): the API starts, and Nest injects a real client, even
 * while Temporal is down. gRPC reconnects on its own when the server comes back; until then
 * requests that need Temporal answer 503 and /health says so. A client given by the caller
 * (tests) is used as is and its connection left to its owner.
 *
 * Fewer gRPC retries than the SDK default (10 attempts, ~20 s while the server is down): right
 * for a worker, too long for an HTTP caller, who gets a 503 after about a second instead.
 */
const API_RPC_ATTEMPTS = 5;

export function temporalClientProviders(config: TemporalConfig, given?: Client, tracing?: Tracing): Provider[] {
  return [
    { provide: TEMPORAL_CONFIG, useValue: config },
    {
      provide: TEMPORAL_CLIENT,
      useFactory: (): Client =>
        given ??
        new Client({
          connection: Connection.lazy({
            ...temporalConnectOptions(config),
            interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: API_RPC_ATTEMPTS }))],
          }),
          namespace: config.namespace,
          dataConverter: config.dataConverter,
          plugins: tracing ? [tracing.temporalPlugin] : [],
        }),
    },
    { provide: OWNS_TEMPORAL_CONNECTION, useValue: given === undefined },
    TemporalConnectionLifecycle,
  ];
}

@Injectable()
export class TemporalConnectionLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Temporal');
  private probe: Promise<void> = Promise.resolve();

  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
    @Inject(OWNS_TEMPORAL_CONNECTION) private readonly ownsConnection: boolean,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: start-up must not depend on Temporal being up.
    this.probe = checkTemporal(this.client, this.config).then((health) => {
      if (health.reachable) this.logger.log(`connected to ${health.address} (namespace ${health.namespace})`);
      else this.logger.warn(`not reachable at start-up, serving anyway (see /health): ${health.error}`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.probe;
    if (this.ownsConnection) await this.client.connection.close();
  }
}
