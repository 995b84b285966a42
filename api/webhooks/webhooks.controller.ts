import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { webhookSecret } from '../../activities/webhooks/webhook-secret';
import type { Identity } from '../../workflows/contracts/identity';
import { durationToMs } from '../../workflows/contracts/duration';
import { CurrentIdentity, RequireRole, type AuthOptions } from '../auth';
import { ApiBadRequest, ApiPathParamFrom, ApiQueryFrom, ApiTemporalFailures, schemaRef } from '../openapi/components';
import { AUTH_OPTIONS } from '../tokens';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { WebhookDeliveries } from './webhook-deliveries';
import {
  createWebhookBodySchema,
  listDeliveriesQuerySchema,
  webhookIdSchema,
  type CreateWebhookBody,
  type ListDeliveriesQuery,
} from './webhook-requests';
import type { WebhookStore, WebhookSubscription } from './webhook-store';
import { WEBHOOK_STORE } from './webhook-tokens';
import type {
  CreateWebhookResponse,
  ListDeliveriesResponse,
  ListWebhooksResponse,
  WebhookSecretResponse,
  WebhookView,
} from './webhook-views';

const webhookId = () => Param('id', new ZodValidationPipe(webhookIdSchema, 'id'));
const ApiWebhookId = () => ApiPathParamFrom('id', webhookIdSchema, { description: 'The subscription id.' });
/** From a new subscription to what can be done with it, for clients (and fuzzers) that follow links. */
const WEBHOOK_LINKS = Object.fromEntries(
  ['getWebhook', 'getWebhookSecret', 'listWebhookDeliveries', 'deleteWebhook'].map((operationId) => [
    operationId.replace(/^./, (c) => c.toUpperCase()),
    { operationId, parameters: { id: '$response.body#/id' } },
  ]),
);
const notFound = ApiResponse({ status: 404, description: 'No such subscription', schema: schemaRef('Error') });

function view(s: WebhookSubscription): WebhookView {
  return {
    id: s.id,
    url: s.url,
    events: s.events,
    ...(s.spec !== undefined && { spec: s.spec }),
    ...(s.linksFor !== undefined && { linksFor: s.linksFor }),
    ...(s.retry && {
      retry: {
        ...(s.retry.initialIntervalMs !== undefined && { initialInterval: s.retry.initialIntervalMs }),
        ...(s.retry.maxAttempts !== undefined && { maxAttempts: s.retry.maxAttempts }),
      },
    }),
    createdAt: s.createdAt,
    createdBy: s.createdBy,
  };
}

/**
 * Webhook subscriptions (admin only). A run is given the subscriptions matching its spec when
 * it starts; each event it emits to one of them becomes a `deliverWebhook` workflow.
 */
@ApiTags('webhooks')
@RequireRole('admin')
@Controller('webhooks')
export class WebhooksController {
  constructor(
    @Inject(WEBHOOK_STORE) private readonly store: WebhookStore,
    @Inject(AUTH_OPTIONS) private readonly auth: AuthOptions,
    @Inject(WebhookDeliveries) private readonly deliveries: WebhookDeliveries,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to run events; the answer holds its signing secret',
    description:
      'Deliveries are POSTed as JSON `{type, timestamp, data}` and signed as Standard Webhooks says ' +
      '(webhook-id, webhook-timestamp, webhook-signature). Runs started from now on notify it; a run already ' +
      'running keeps the subscriptions it started with.',
  })
  @ApiBody({ schema: schemaRef('CreateWebhookBody') })
  @ApiResponse({
    status: 201,
    description: 'Stored',
    schema: schemaRef('CreateWebhookResponse'),
    links: WEBHOOK_LINKS,
  })
  @ApiBadRequest('Invalid URL, event type, spec name or retry setting: `issues` names the field')
  @ApiResponse({ status: 503, description: 'No SIGNING_SECRET is configured', schema: schemaRef('Error') })
  async create(
    @Body(new ZodValidationPipe(createWebhookBodySchema)) body: CreateWebhookBody,
    @CurrentIdentity() identity: Identity,
  ): Promise<CreateWebhookResponse> {
    const signingSecret = this.signingSecret();
    const retry = body.retry && {
      ...(body.retry.initialInterval !== undefined && { initialIntervalMs: durationToMs(body.retry.initialInterval) }),
      ...(body.retry.maxAttempts !== undefined && { maxAttempts: body.retry.maxAttempts }),
    };
    const stored = await this.store.create({
      url: body.url,
      events: body.events,
      ...(body.spec !== undefined && { spec: body.spec }),
      ...(body.linksFor !== undefined && { linksFor: body.linksFor }),
      ...(retry && { retry }),
      createdBy: identity.user,
    });
    return { ...view(stored), secret: webhookSecret(signingSecret, stored.id) };
  }

  @Get()
  @ApiOperation({ operationId: 'listWebhooks', summary: 'Every subscription, oldest first (no secrets)' })
  @ApiResponse({ status: 200, schema: schemaRef('ListWebhooksResponse') })
  async list(): Promise<ListWebhooksResponse> {
    return { webhooks: (await this.store.list()).map(view) };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getWebhook', summary: 'One subscription (no secret)' })
  @ApiWebhookId()
  @ApiResponse({ status: 200, schema: schemaRef('WebhookView') })
  @ApiBadRequest('Not a webhook id')
  @notFound
  async get(@webhookId() id: string): Promise<WebhookView> {
    return view(await this.require(id));
  }

  @Get(':id/secret')
  @ApiOperation({
    operationId: 'getWebhookSecret',
    summary: "A subscription's signing secret, to verify its deliveries with",
  })
  @ApiWebhookId()
  @ApiResponse({ status: 200, schema: schemaRef('WebhookSecretResponse') })
  @ApiBadRequest('Not a webhook id')
  @notFound
  @ApiResponse({ status: 503, description: 'No SIGNING_SECRET is configured', schema: schemaRef('Error') })
  async secret(@webhookId() id: string): Promise<WebhookSecretResponse> {
    const signingSecret = this.signingSecret();
    await this.require(id);
    return { id, secret: webhookSecret(signingSecret, id) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteWebhook',
    summary: 'Unsubscribe',
    description:
      'Runs started from now on do not notify it. Runs already running keep the subscriptions they started ' +
      'with until they end, and deliveries already under way finish (GET .../deliveries shows them).',
  })
  @ApiWebhookId()
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiBadRequest('Not a webhook id')
  @notFound
  async remove(@webhookId() id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw new NotFoundException(`webhook "${id}" not found`);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: "A subscription's deliveries: attempts, outcomes, the next attempt of pending ones",
    description:
      'From Temporal visibility (a delivery shows up a moment after its event): pending deliveries first, ' +
      'then the others, newest first.',
  })
  @ApiWebhookId()
  @ApiQueryFrom(listDeliveriesQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('ListDeliveriesResponse') })
  @ApiBadRequest('Not a webhook id, or a bad page size or token')
  @notFound
  @ApiTemporalFailures()
  async listDeliveries(
    @webhookId() id: string,
    @Query(new ZodValidationPipe(listDeliveriesQuerySchema)) query: ListDeliveriesQuery,
  ): Promise<ListDeliveriesResponse> {
    await this.require(id);
    return this.deliveries.list(id, query);
  }

  private async require(id: string): Promise<WebhookSubscription> {
    const found = await this.store.get(id);
    if (!found) throw new NotFoundException(`webhook "${id}" not found`);
    return found;
  }

  private signingSecret(): string {
    if (!this.auth.signingSecret) {
      throw new ServiceUnavailableException(
        'webhooks need a signing secret: set SIGNING_SECRET (or SIGNING_SECRET_FILE) to at least 32 random ' +
          'characters for the API and the orchestrator worker, and restart them',
      );
    }
    return this.auth.signingSecret;
  }
}
