/**
 * The runs `npm run record-histories` records into test/histories and test/replay.test.ts replays
 * against today's workflow code: every step kind, the bounded-history paths (fan-out children,
 * continue-as-new, agent loop and lease keeper child workflows) and every example spec. Each run
 * is kept tiny (few items, few turns, short outputs) so the corpus stays small and replays fast.
 * The scenario's name is its workflow id (children's ids start with it) and its files' prefix.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ApprovalInput, ApprovalSignalInput, PendingApproval, RunOptions } from '../../workflows/contracts/run';
import type { Spec, Step } from '../../workflows/contracts/spec';
import { validateSpec } from '../../workflows/spec/validate';
import type { Script } from '../fixtures/llm/model-server';
import { researchScript } from '../fixtures/llm/research-script';

/** What the recording bed offers a scenario's inputs. */
export interface BedFacts {
  /** The simulated board (a pty relay to the ROM-loader simulator), served by its device worker. */
  deviceId: string;
  /** A small firmware image under the device's artifact roots. */
  image: string;
}

export interface Scenario {
  name: string;
  /** What the history covers, printed by the recorder. */
  covers: string;
  spec: Spec;
  inputs?: Record<string, unknown> | ((bed: BedFacts) => Record<string, unknown>);
  childSpecs?: Record<string, Spec>;
  options?: RunOptions;
  /** What the stand-in model answers (default: "ok", 10 + 5 tokens). */
  model?: Script;
  /** How the run must end; a recording that ends otherwise fails the recorder. */
  expect: 'completed' | 'failed';
  /** The decision on each pending approval (default: approve); `unanswered`: let timeouts decide. */
  decide?: ((approval: PendingApproval) => Omit<ApprovalInput, 'stepId' | 'by'>) | 'unanswered';
  /** Child runs (id suffixes after `<name>.`) whose own approvals are answered too. */
  approvalsOn?: string[];
  /** Decisions sent as `approve` signals, in this order, instead of the update (tokens: RECORDER_TOKENS). */
  signals?: Array<Omit<ApprovalSignalInput, 'stepId'>>;
}

/** The static tokens file of the recording bed's orchestrator worker (AUTH_TOKENS_FILE). */
export const RECORDER_TOKENS = [
  { token: 'recorder-release-manager-token', user: 'recorder', groups: ['release-managers'], roles: ['approver'] },
];

const EXAMPLES = path.resolve(__dirname, '../../examples');

/** An example spec as shipped, checked as the API would check it. */
export function loadExample(name: string): Spec {
  const checked = validateSpec(parseYaml(readFileSync(path.join(EXAMPLES, `${name}.spec.yaml`), 'utf8')));
  if (!checked.ok) throw new Error(`examples/${name}.spec.yaml is invalid: ${JSON.stringify(checked.issues)}`);
  return checked.spec;
}

const echo = (id: string, args: unknown): Step => ({ id, kind: 'activity', activity: 'test.echo', args });
const ask = (id: string, extra: Record<string, unknown> = {}): Step =>
  ({
    id,
    kind: 'llm',
    model: 'default',
    prompt: id,
    retry: { maxAttempts: 2, initialInterval: '100ms' },
    ...extra,
  }) as Step;
const usage = { input: 10, output: 5 };
const tokens = (n: number) => ({ input: n - 50, output: 50 });

/** An agent that calls the given tools in its first turn, then answers with what they returned. */
const toolsThenAnswer =
  (calls: Array<{ name: string; arguments: Record<string, unknown> }>): Script =>
  (e) =>
    e.toolResults.length === 0
      ? { toolCalls: calls, usage }
      : { text: e.toolResults.map((r) => r.content).join(' | '), usage };

export const SCENARIOS: Scenario[] = [
  {
    name: 'parallel-approval-defaults',
    covers: 'activity (spec.* registry), parallel, sleep, approval, ${ref ?? default}',
    spec: {
      name: 'parallel-approval-defaults',
      inputs: { target: { type: 'string', default: 'esp32-s3' }, note: { type: 'string', required: false } },
      steps: [
        {
          id: 'checks',
          kind: 'parallel',
          branches: [
            [echo('build', { artifact: 'fw-${inputs.target}.bin' })],
            [echo('lint', { ok: true }), { id: 'pause', kind: 'sleep', duration: '50ms' }],
          ],
        },
        { id: 'approve', kind: 'approval', prompt: 'Ship ${steps.build.output.artifact}?', timeout: '1h' },
        echo('ship', {
          by: '${steps.approve.output.by}',
          comment: '${steps.approve.output.comment ?? null}',
          note: '${inputs.note ?? "no note"}',
        }),
      ],
      output: { shipped: '${steps.ship.output}', missing: "${steps.lint.output.reason ?? 'n/a'}" },
    },
    expect: 'completed',
  },
  {
    name: 'map-branch-inline',
    covers: 'map (in the run), branch',
    spec: {
      name: 'map-branch-inline',
      steps: [
        {
          id: 'each',
          kind: 'map',
          items: [1, 12, 3],
          maxConcurrency: 2,
          steps: [
            {
              id: 'size',
              kind: 'branch',
              cases: [{ when: { gt: ['${item}', 10] }, steps: [echo('large', { n: '${item}' })] }],
              otherwise: [echo('small', { n: '${item}' })],
            },
          ],
        },
      ],
    },
    expect: 'completed',
  },
  {
    name: 'map-in-children',
    covers: 'map over more than maxInlineMapItems: fan-out child runs',
    spec: {
      name: 'map-in-children',
      inputs: { env: { type: 'string', default: 'prod' } },
      steps: [
        { id: 'base', kind: 'activity', activity: 'test.text', args: { n: 40, seed: 'b' } },
        {
          id: 'each',
          kind: 'map',
          items: [1, 2, 3, 4, 5],
          maxConcurrency: 2,
          steps: [echo('tag', { i: '${index}', env: '${inputs.env}', base: '${steps.base.output}' })],
        },
      ],
    },
    options: { maxInlineMapItems: 2 },
    expect: 'completed',
  },
  {
    name: 'parallel-fail-fast',
    covers: 'a failing branch cancels its sibling; the run fails',
    spec: {
      name: 'parallel-fail-fast',
      steps: [
        {
          id: 'race',
          kind: 'parallel',
          branches: [
            [{ id: 'wait', kind: 'sleep', duration: '1h' }],
            [{ id: 'boom', kind: 'activity', activity: 'test.fail', args: { message: 'kaput' } }],
          ],
        },
      ],
    },
    expect: 'failed',
  },
  {
    name: 'run-patches',
    covers: 'one RUN_PATCH marker per run (at admission, in a fan-out child, in a continued run); lean steps',
    spec: {
      name: 'run-patches',
      steps: [
        echo('first', { n: 1 }),
        {
          id: 'fan',
          kind: 'parallel',
          branches: [
            [echo('a', { x: 1 })],
            [echo('b1', { y: 2 }), echo('b2', { b: '${steps.b1.output.y}' })],
            [{ id: 'nap', kind: 'sleep', duration: '20ms' }],
          ],
        },
        { id: 'each', kind: 'map', items: [1, 2, 3], maxConcurrency: 2, steps: [echo('item', { i: '${item}' })] },
        echo('last', { a: '${steps.a.output.x}', first: '${steps.first.output.n}' }),
      ],
    },
    options: { maxInlineMapItems: 2, continueAsNewAfterSteps: 2 },
    expect: 'completed',
  },
  {
    name: 'approval-timeout-and-child',
    covers: 'approval timeout → default decision, child',
    spec: {
      name: 'approval-timeout-and-child',
      steps: [
        { id: 'gate', kind: 'approval', timeout: '200ms', onTimeout: 'approve' },
        { id: 'sub', kind: 'child', spec: 'leaf', inputs: { x: 3 } },
      ],
      output: '${steps.sub.output}',
    },
    childSpecs: {
      leaf: {
        name: 'leaf',
        inputs: { x: { type: 'number' } },
        steps: [echo('twice', { v: '${inputs.x}' })],
        output: '${steps.twice.output.v}',
      },
    },
    decide: 'unanswered',
    expect: 'completed',
  },
  {
    name: 'continue-as-new-blobs',
    covers: 'continue-as-new between steps, outputs carried as blob references',
    spec: {
      name: 'continue-as-new-blobs',
      steps: [
        { id: 'big', kind: 'activity', activity: 'test.text', args: { n: 300, seed: 'big' } },
        echo('middle', { ok: true }),
        { id: 'read', kind: 'activity', activity: 'test.digest', args: { text: '${steps.big.output}' } },
      ],
      output: '${steps.read.output}',
    },
    options: { continueAsNewAfterSteps: 1, maxInlineOutputBytes: 100 },
    expect: 'completed',
  },
  {
    name: 'tool-steps',
    covers: 'tool (server-everything over stdio)',
    spec: {
      name: 'tool-steps',
      steps: [
        { id: 'say', kind: 'tool', tool: 'everything.echo', args: { message: 'hi' } },
        { id: 'sum', kind: 'tool', tool: 'everything.get-sum', args: { a: 2, b: 3 } },
      ],
      output: { said: '${steps.say.output.text}', sum: '${steps.sum.output}' },
    },
    expect: 'completed',
  },
  {
    name: 'llm-text-structured',
    covers: 'llm: text (OpenAI wire format) and structured output (Anthropic wire format)',
    spec: {
      name: 'llm-text-structured',
      steps: [
        ask('draft', { system: 'Be brief.' }),
        ask('judge', {
          model: 'claude',
          prompt: 'Judge: ${steps.draft.output}',
          schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        }),
      ],
    },
    model: (e) => (e.structured ? { json: { ok: true }, usage } : { text: 'draft', usage }),
    expect: 'completed',
  },
  {
    name: 'llm-provider-queues',
    covers: "model calls on a limited provider's own task queue (model `limited`) beside an unlimited one's",
    spec: {
      name: 'llm-provider-queues',
      steps: [
        {
          id: 'both',
          kind: 'parallel',
          branches: [[ask('limited', { model: 'limited' })], [ask('plain')]],
        },
        ask('again', { model: 'limited' }),
        {
          id: 'helper',
          kind: 'agent',
          model: 'limited',
          prompt: 'Echo once.',
          tools: ['everything.echo'],
          maxIterations: 2,
          retry: { maxAttempts: 2, initialInterval: '100ms' },
        },
      ],
    },
    model: (e) =>
      e.tools.length && e.toolResults.length === 0
        ? { toolCalls: [{ name: 'everything__echo', arguments: { message: 'q' } }], usage }
        : { text: 'ok', usage },
    expect: 'completed',
  },
  {
    name: 'agent-tools-approval',
    covers: 'agent (loop in the run): MCP tool calls, one behind an approval',
    spec: {
      name: 'agent-tools-approval',
      steps: [
        {
          id: 'helper',
          kind: 'agent',
          model: 'default',
          prompt: 'Add and echo.',
          tools: ['everything.echo', 'everything.get-sum'],
          requireApproval: ['everything.get-sum'],
          maxIterations: 3,
          retry: { maxAttempts: 2, initialInterval: '100ms' },
        },
      ],
    },
    model: toolsThenAnswer([
      { name: 'everything__echo', arguments: { message: 'a' } },
      { name: 'everything__get-sum', arguments: { a: 1, b: 2 } },
    ]),
    expect: 'completed',
  },
  {
    name: 'agent-in-child',
    covers: 'agent with more turns than maxInlineAgentTurns: agentLoop child workflow',
    spec: {
      name: 'agent-in-child',
      steps: [
        {
          id: 'helper',
          kind: 'agent',
          model: 'default',
          prompt: 'Echo once.',
          tools: ['everything.echo'],
          maxIterations: 3,
          retry: { maxAttempts: 2, initialInterval: '100ms' },
        },
      ],
    },
    options: { maxInlineAgentTurns: 2 },
    model: toolsThenAnswer([{ name: 'everything__echo', arguments: { message: 'b' } }]),
    expect: 'completed',
  },
  {
    name: 'budget-approval',
    covers: 'run budget reached → budget approval → raised',
    spec: { name: 'budget-approval', steps: [ask('one'), ask('two'), ask('three')] },
    options: { budget: { tokens: 200 } },
    model: () => ({ text: 'ok', usage: tokens(150) }),
    expect: 'completed',
  },
  {
    name: 'child-budget',
    covers: "child with budgets: the child draws on the parent's rest, both ask to raise",
    spec: {
      name: 'child-budget',
      steps: [ask('first'), { id: 'sub', kind: 'child', spec: 'leaf' }, ask('after')],
    },
    childSpecs: { leaf: { name: 'leaf', steps: [ask('a'), ask('b'), ask('c')] } },
    options: { budget: { tokens: 350 } },
    model: () => ({ text: 'ok', usage: tokens(150) }),
    approvalsOn: ['sub'],
    expect: 'completed',
  },
  {
    name: 'research-in-children',
    covers: 'research with more researchers than maxInlineAgents: researcher child runs',
    spec: loadExample('research'),
    inputs: { question: 'Why replay?', subQuestions: 2, synthesisers: 1 },
    options: { maxInlineAgents: 1 },
    model: researchScript(),
    expect: 'completed',
  },
  {
    name: 'device-upload-command',
    covers: "device_upload and device_command, each waiting in the lock's line (acquireDevice) for a hold of its own",
    spec: {
      name: 'device-upload-command',
      inputs: { device: { type: 'string' }, image: { type: 'string' } },
      steps: [
        { id: 'upload', kind: 'device_upload', device: '${inputs.device}', artifact: '${inputs.image}' },
        {
          id: 'smoke',
          kind: 'device_command',
          device: '${inputs.device}',
          send: 'pattern smoke',
          expect: '^PATTERN smoke OK',
        },
      ],
      output: { upload: '${steps.upload.status}', smoke: '${steps.smoke.status}' },
    },
    inputs: (bed) => ({ device: bed.deviceId, image: bed.image }),
    expect: 'completed',
  },
  {
    name: 'device-session-lease',
    covers: 'device_session held past ten renewals: the lease keeper child continues as new',
    spec: {
      name: 'device-session-lease',
      inputs: { device: { type: 'string' }, image: { type: 'string' } },
      steps: [
        {
          id: 'flash',
          kind: 'device_session',
          device: '${inputs.device}',
          lease: '3s',
          steps: [
            { id: 'upload', kind: 'device_upload', artifact: '${inputs.image}' },
            { id: 'soak', kind: 'sleep', duration: '14s' },
            { id: 'smoke', kind: 'device_command', send: 'pattern smoke', expect: '^PATTERN smoke OK' },
          ],
        },
      ],
    },
    inputs: (bed) => ({ device: bed.deviceId, image: bed.image }),
    expect: 'completed',
  },
  {
    name: 'device-offline-skip',
    covers: 'a device nobody serves: SKIPPED, escalated, a human chooses skip',
    spec: {
      name: 'device-offline-skip',
      steps: [
        { id: 'upload', kind: 'device_upload', device: 'ghost', artifact: '/tmp/fw.bin' },
        echo('after', { status: '${steps.upload.status}' }),
      ],
    },
    decide: () => ({ decision: 'reject', choice: 'skip' }),
    expect: 'completed',
  },
  {
    name: 'approval-escalation',
    covers: 'approval timeout → escalate (approvers join, second timer) → default decision; inbox memo',
    spec: {
      name: 'approval-escalation',
      steps: [
        {
          id: 'gate',
          kind: 'approval',
          approvers: ['release-managers'],
          timeout: '200ms',
          escalate: { approvers: ['group:oncall'], timeout: '200ms' },
          onTimeout: 'approve',
        },
        echo('after', { by: '${steps.gate.output.by}', timedOut: '${steps.gate.output.timedOut}' }),
      ],
    },
    decide: 'unanswered',
    expect: 'completed',
  },
  {
    name: 'approval-signal',
    covers: 'approve signal: a bad token refused (verifyDecisionToken, memo lastRefusal), then decided by signal',
    spec: {
      name: 'approval-signal',
      steps: [
        { id: 'gate', kind: 'approval', approvers: ['release-managers'], timeout: '1h' },
        echo('after', { by: '${steps.gate.output.by}', channel: '${steps.gate.output.channel}' }),
      ],
    },
    signals: [
      { decision: 'approve', token: 'a-token-nobody-issued' },
      { decision: 'approve', token: 'recorder-release-manager-token', comment: 'from the CLI' },
    ],
    expect: 'completed',
  },
  {
    name: 'mcp-client-requests',
    covers: 'tool calls whose server elicits (a pending input, accepted) and samples (the run model answers)',
    spec: {
      name: 'mcp-client-requests',
      steps: [
        { id: 'book', kind: 'tool', tool: 'asking.book', args: { event: 'replay' } },
        { id: 'sum', kind: 'tool', tool: 'asking.summarize', args: { text: 'a text to summarize' } },
      ],
    },
    decide: (a) =>
      a.kind === 'input' ? { decision: 'approve', content: { name: 'Rec', seats: 1 } } : { decision: 'approve' },
    expect: 'completed',
  },
  {
    name: 'example-approval-release',
    covers: 'examples/approval-release.spec.yaml',
    spec: loadExample('approval-release'),
    inputs: { target: 'staging' },
    expect: 'completed',
  },
  {
    name: 'example-mcp-files',
    covers: 'examples/mcp-files.spec.yaml (server-filesystem and server-everything)',
    spec: loadExample('mcp-files'),
    expect: 'completed',
  },
  {
    name: 'example-research',
    covers: 'examples/research.spec.yaml (researchers in the run)',
    spec: loadExample('research'),
    inputs: { question: 'Why replay?', subQuestions: 2, synthesisers: 1 },
    model: researchScript(),
    expect: 'completed',
  },
  {
    name: 'example-swarm',
    covers: 'examples/swarm.spec.yaml',
    spec: loadExample('swarm'),
    inputs: { task: 'Name a colour.', agents: 2 },
    model: researchScript(),
    expect: 'completed',
  },
  {
    name: 'example-firmware-release',
    covers: 'examples/firmware-release.spec.yaml: build, approval, device_session, device_upload, device_command',
    spec: loadExample('firmware-release'),
    inputs: (bed) => ({ device: bed.deviceId }),
    expect: 'completed',
  },
];

/**
 * Not a run: the device's lock workflow, recorded after the device scenarios used it. Files named
 * `device-*-by-signal*` and `example-firmware-release-by-signal*` were recorded before devices were
 * reached through the lock's update (DEVICE_ACCESS_PATCH): no scenario writes them any more, so they
 * keep proving that runs (and locks) recorded then still replay.
 */
export const DEVICE_LOCK_SCENARIO = 'device-lock';
