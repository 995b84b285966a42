/**
 * OpenAPI components generated from the zod schemas that validate requests (and describe
 * responses), so the document cannot drift from what the API accepts.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiQuery, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { conditionSchema } from '../../workflows/spec/condition';
import { specSchema, stepSchema } from '../../workflows/spec/schema';
import { healthResponseSchema } from '../health/health-views';
import { mcpServersResponseSchema, mcpToolsResponseSchema } from '../mcp/mcp-views';
import { listSpecsResponseSchema, registerSpecResponseSchema, storedSpecViewSchema } from '../specs/spec-views';
import { approvalBodySchema, startRunBodyDocSchema, stopRunBodySchema } from '../workflows/run-requests';
import {
  approvalResponseSchema,
  listRunsResponseSchema,
  runDetailSchema,
  startRunResponseSchema,
  stopRunResponseSchema,
} from '../workflows/run-views';

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
  StoredSpec: storedSpecViewSchema,
  RegisterSpecResponse: registerSpecResponseSchema,
  ListSpecsResponse: listSpecsResponseSchema,
  HealthResponse: healthResponseSchema,
  McpServersResponse: mcpServersResponseSchema,
  McpToolsResponse: mcpToolsResponseSchema,
  ValidationError: z.object({
    statusCode: z.literal(400),
    error: z.literal('Bad Request'),
    message: z.string(),
    issues: z.array(z.object({ path: z.string().meta({ example: 'spec.steps[1].duration' }), message: z.string() })),
  }),
  Error: z.object({ statusCode: z.number().int(), error: z.string(), message: z.string() }),
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

/** One @ApiQuery per field of a query schema. */
export function ApiQueryFrom(schema: z.ZodObject): MethodDecorator {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'any' }) as {
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
