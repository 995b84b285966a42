import { Global, Module, type DynamicModule } from '@nestjs/common';
import { WebhookDeliveries } from './webhook-deliveries';
import { WebhookStore } from './webhook-store';
import { WEBHOOK_STORE } from './webhook-tokens';
import { WebhooksController } from './webhooks.controller';

/** Webhook subscriptions and their deliveries. Global: every run start reads the store. */
@Global()
@Module({})
export class WebhooksModule {
  static forRoot(opts: { storeDir: string }): DynamicModule {
    return {
      module: WebhooksModule,
      controllers: [WebhooksController],
      providers: [{ provide: WEBHOOK_STORE, useValue: new WebhookStore(opts.storeDir) }, WebhookDeliveries],
      exports: [WEBHOOK_STORE],
    };
  }
}
