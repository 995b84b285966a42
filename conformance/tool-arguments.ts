/**
 * Arguments for a scenario server's tool, made from its input schema: the conformance client
 * calls every tool it lists (as a step would), and a tool with required parameters needs values.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

/** A value of the JSON schema type asked for, so a tool with required arguments can be called. */
function sampleValue(schema: unknown): unknown {
  const s = (schema ?? {}) as { type?: unknown; default?: unknown; enum?: unknown[]; properties?: unknown };
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  switch (Array.isArray(s.type) ? s.type[0] : s.type) {
    case 'number':
    case 'integer':
      return 2;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return argumentsFor({ inputSchema: s } as Tool);
    case 'null':
      return null;
    default:
      return 'conformance';
  }
}

/** Arguments for every required property of the tool's input schema. */
export function argumentsFor(tool: Pick<Tool, 'inputSchema'>): Record<string, unknown> {
  const schema = tool.inputSchema as { properties?: Record<string, unknown>; required?: string[] };
  return Object.fromEntries((schema.required ?? []).map((name) => [name, sampleValue(schema.properties?.[name])]));
}
