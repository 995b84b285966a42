/**
 * OpenAPI components generated from the zod schemas that validate requests (and describe
 * responses), so the document cannot drift from what the API accepts.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiParam, ApiQuery, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { budgetSchema } from '../../workflows/llm/step-fields';
import { linkDecisionBodySchema, mintLinksBodySchema } from '../approvals/approval-requests';
import { signalTokenBodySchema, signalTokenResponseSchema } from '../approvals/signal-token-schemas';
import {
  approvalLinksResponseSchema,
  approvalLinkViewSchema,
  listApprovalsResponseSchema,
} from '../approvals/approval-views';
import { durationSchema, MAX_DURATION_MS } from '../../workflows/contracts/duration';
import { applyDocOverrides, documentAlso, documentAs } from './doc-overrides';
import { conditionSchema } from '../../workflows/spec/condition';
import { specSchema, stepSchema } from '../../workflows/spec/schema';
import { deviceStatusViewSchema, devicesResponseSchema } from '../devices/device-view-schemas';
import { healthResponseSchema } from '../health/health-views';
import { rerunBodySchema, retryBodySchema } from '../history/history-requests';
import {
  replayVerdictSchema,
  rerunResponseSchema,
  stepTimelineSchema,
  workflowHistorySchema,
} from '../history/history-views';
import { codecBodySchema } from '../codec/codec-requests';
import { analyticsSummarySchema } from '../analytics/analytics-views';
import { mcpServersResponseSchema, mcpToolsResponseSchema } from '../mcp/mcp-views';
import { createWebhookBodySchema } from '../webhooks/webhook-requests';
import {
  createWebhookResponseSchema,
  listDeliveriesResponseSchema,
  listWebhooksResponseSchema,
  webhookSecretResponseSchema,
  webhookViewSchema,
} from '../webhooks/webhook-views';
import { listSpecsResponseSchema, registerSpecResponseSchema, storedSpecViewSchema } from '../specs/spec-views';
import { approvalBodySchema, startRunBodyDocSchema, stopRunBodySchema } from '../workflows/run-requests';
import {
  approvalResponseSchema,
  listRunsResponseSchema,
  runDetailSchema,
  startRunResponseSchema,
  stopRunResponseSchema,
} from '../workflows/run-views';

// What refinements in the workflow-side schemas check, said in the document.
documentAs(durationSchema, {
  description:
    'A duration: a number of milliseconds, or digits with a unit (500ms, 30s, 5m, 24h, 2d); at most 100 years.',
  anyOf: [
    { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$' },
    { type: 'number', minimum: 0, maximum: MAX_DURATION_MS },
  ],
});
documentAlso(budgetSchema, { minProperties: 1, description: 'Give tokens, usd or both.' });

const COMPONENTS = {
  Spec: specSchema,
  Step: stepSchema,
  Condition: conditionSchema,
  StartRunBody: startRunBodyDocSchema,
  StartRunResponse: startRunResponseSchema,
  ListRunsResponse: listRunsResponseSchema,
  RunDetail: runDetailSchema,
  ApprovalBody: approvalBodySchema,
  ApprovalResponse: approvalResponseSchema,
  StopRunBody: stopRunBodySchema,
  StopRunResponse: stopRunResponseSchema,
  WorkflowHistory: workflowHistorySchema,
  StepTimeline: stepTimelineSchema,
  ReplayVerdict: replayVerdictSchema,
  RerunBody: rerunBodySchema,
  RetryBody: retryBodySchema,
  RerunResponse: rerunResponseSchema,
  StoredSpec: storedSpecViewSchema,
  RegisterSpecResponse: registerSpecResponseSchema,
  ListSpecsResponse: listSpecsResponseSchema,
  HealthResponse: healthResponseSchema,
  McpServersResponse: mcpServersResponseSchema,
  McpToolsResponse: mcpToolsResponseSchema,
  Devices: devicesResponseSchema,
  DeviceStatus: deviceStatusViewSchema,
  CreateWebhookBody: createWebhookBodySchema,
  CreateWebhookResponse: createWebhookResponseSchema,
  WebhookView: webhookViewSchema,
  WebhookSecretResponse: webhookSecretResponseSchema,
  ListWebhooksResponse: listWebhooksResponseSchema,
  ListDeliveriesResponse: listDeliveriesResponseSchema,
  ListApprovalsResponse: listApprovalsResponseSchema,
  MintLinksBody: mintLinksBodySchema,
  ApprovalLinksResponse: approvalLinksResponseSchema,
  ApprovalLinkView: approvalLinkViewSchema,
  LinkDecisionBody: linkDecisionBodySchema,
  SignalTokenBody: signalTokenBodySchema,
  SignalTokenResponse: signalTokenResponseSchema,
  CodecBody: codecBodySchema,
  AnalyticsSummary: analyticsSummarySchema,
  ValidationError: z.object({
    statusCode: z.literal(400),
    error: z.literal('Bad Request'),
    message: z.string(),
    issues: z
      .array(z.object({ path: z.string().meta({ example: 'spec.steps[1].duration' }), message: z.string() }))
      .meta({ description: 'Every bad field; `(body)` when the body is not JSON at all.' }),
  }),
  Error: z.object({ statusCode: z.number().int(), error: z.string(), message: z.string() }),
  DecisionConflict: z.object({
    statusCode: z.literal(409),
    error: z.literal('Conflict'),
    message: z.string(),
    stepId: z.string().optional(),
    decision: z.enum(['approve', 'reject']).optional(),
    decidedBy: z.string().optional().meta({ description: 'Who decided the step already (when that is the conflict).' }),
    decidedAt: z.string().optional().meta({ description: 'When, as an ISO time.' }),
  }),
} satisfies Record<string, z.ZodType>;

export type ComponentName = keyof typeof COMPONENTS;

const REF_BASE = '#/components/schemas/';

export function schemaRef(name: ComponentName): { $ref: string } {
  return { $ref: `${REF_BASE}${name}` };
}

/** Every component as an OpenAPI 3.0 schema; shared and recursive parts become `$ref`s. */
export function zodComponents(): Record<string, SchemaObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    target: 'openapi-3.0',
    unrepresentable: 'any',
    uri: (id) => `${REF_BASE}${id}`,
    override: applyDocOverrides,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      // The registry stamps each schema with $id = its own $ref; OpenAPI 3.0 has no use for it.
      const component: Record<string, unknown> = { ...schema };
      delete component.$id;
      return [id, component as SchemaObject];
    }),
  );
}

function inlineSchema(schema: z.ZodType): SchemaObject {
  return z.toJSONSchema(schema, {
    io: 'input',
    target: 'openapi-3.0',
    unrepresentable: 'any',
    override: applyDocOverrides,
  }) as SchemaObject;
}

/** A path parameter documented from the zod schema that validates it. */
export function ApiPathParamFrom(
  name: string,
  schema: z.ZodType,
  extra: { description?: string; example?: string } = {},
) {
  return ApiParam({ name, required: true, schema: inlineSchema(schema), ...extra });
}

/** One @ApiQuery per field of a query schema. */
export function ApiQueryFrom(schema: z.ZodObject): MethodDecorator {
  const json = inlineSchema(schema) as {
    properties?: Record<string, SchemaObject>;
    required?: string[];
  };
  const decorators = Object.entries(json.properties ?? {}).map(([name, property]) =>
    ApiQuery({
      name,
      required: json.required?.includes(name) ?? false,
      schema: property,
      description: property.description,
    }),
  );
  return applyDecorators(...decorators);
}

/** 400 with the ValidationError body (every bad field named). */
export const ApiBadRequest = (description = 'Invalid request: `issues` names each bad field') =>
  ApiResponse({ status: 400, description, schema: schemaRef('ValidationError') });

/** 413 for a body over the configured limit (API_BODY_LIMIT). */
export const ApiTooLarge = () =>
  ApiResponse({ status: 413, description: 'The body is larger than API_BODY_LIMIT', schema: schemaRef('Error') });

/** What any call to Temporal may answer: unreachable, too slow, or an unexpected server error. */
export const ApiTemporalFailures = () =>
  applyDecorators(
    ApiResponse({ status: 502, description: 'Temporal answered with an unexpected error', schema: schemaRef('Error') }),
    ApiResponse({ status: 503, description: 'Temporal is unreachable or overloaded', schema: schemaRef('Error') }),
    ApiResponse({ status: 504, description: 'Temporal did not answer in time', schema: schemaRef('Error') }),
  );
