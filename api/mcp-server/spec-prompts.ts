/**
 * One prompt per registered spec, named as the spec: "start a run of spec X with these inputs",
 * its arguments the spec's inputs. Prompt arguments are text: an input of another type is read
 * as JSON when it parses (`3`, `true`, `["a"]`), else passed as given for start_run to judge.
 */
import type { McpServer, RegisteredPrompt } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { GetPromptResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { InputDecl, Spec } from '../../workflows/contracts/spec';

export class SpecPrompts {
  private readonly registered = new Map<string, { version: number | undefined; prompt: RegisteredPrompt }>();

  constructor(private readonly server: McpServer) {
    // The SDK sets up prompts/list and the prompts capability with the first prompt, and a
    // capability cannot be added once connected: a session opened before any spec was registered
    // must still offer prompts. A prompt registered and removed at once leaves them in place.
    server.registerPrompt('(none)', {}, () => ({ messages: [] })).remove();
  }

  /** Shows exactly `specs`; true when anything changed (the SDK has told the client of prompts). */
  sync(specs: Spec[]): boolean {
    let changed = false;
    const names = new Set(specs.map((s) => s.name));
    for (const [name, entry] of this.registered) {
      if (names.has(name)) continue;
      entry.prompt.remove();
      this.registered.delete(name);
      changed = true;
    }
    for (const spec of specs) {
      const entry = this.registered.get(spec.name);
      if (entry && entry.version === spec.version) continue;
      const config = promptConfig(spec);
      if (entry) {
        entry.prompt.update({ ...config, callback: (args) => promptFor(spec, args) });
        entry.version = spec.version;
      } else {
        const prompt = this.server.registerPrompt(spec.name, config, (args) => promptFor(spec, args));
        this.registered.set(spec.name, { version: spec.version, prompt });
      }
      changed = true;
    }
    return changed;
  }
}

function promptConfig(spec: Spec) {
  const argsSchema: Record<string, z.ZodOptional<z.ZodString> | z.ZodString> = {};
  for (const [name, decl] of Object.entries(spec.inputs ?? {})) {
    const text = z.string().describe(argumentDescription(decl));
    argsSchema[name] = isRequired(decl) ? text : text.optional();
  }
  return {
    title: `Start ${spec.name}${spec.version === undefined ? '' : ` v${spec.version}`}`,
    description: `Start a run of the spec "${spec.name}"${spec.description ? `: ${spec.description}` : ''}`,
    argsSchema,
  };
}

const isRequired = (decl: InputDecl) => decl.required ?? decl.default === undefined;

function argumentDescription(decl: InputDecl): string {
  const parts = [decl.type === 'string' ? 'text' : `${decl.type} (as JSON)`];
  if (decl.description) parts.push(decl.description);
  if (decl.default !== undefined) parts.push(`default ${JSON.stringify(decl.default)}`);
  return parts.join('; ');
}

function promptFor(spec: Spec, args: Record<string, string | undefined>): GetPromptResult {
  const inputs: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(spec.inputs ?? {})) {
    const value = args[name];
    if (value !== undefined) inputs[name] = decl.type === 'string' ? value : parsedOrText(value);
  }
  const text =
    `Start a run of the registered spec "${spec.name}" with the start_run tool, with specName ` +
    `${JSON.stringify(spec.name)} and inputs ${JSON.stringify(inputs)}. ` +
    'Then follow it with wait_for_run. If it waits for an approval, show me the approval prompt and ' +
    'decide it with decide_approval only once I have said how.';
  return {
    description: `Start ${spec.name}`,
    messages: [{ role: 'user', content: { type: 'text', text } }],
  };
}

function parsedOrText(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
