/**
 * A spec's data model: every step kind's fields, the `Step` union and the spec itself. Types only,
 * so the API, the workers and the workflows share them; each step kind's module (workflows/steps/)
 * adds its schema and behaviour.
 */
import type { Duration } from './duration';
import type { Budget } from './llm';

/** A count a spec may give as a number or one expression. */
export type Count = number | string;

/** Fields every step has, whatever its kind. */
export interface BaseStep {
  /** Unique within the spec; becomes the activity summary in the Web UI. */
  id: string;
  kind: string;
  /** Optional human label shown in progress. */
  name?: string;
}

/**
 * Calls a named activity from the worker's spec registry: the built-in `http`, or ones a
 * deployment adds (ORCHESTRATOR_ACTIVITY_MODULES). Only those are reachable: the worker registers
 * them as `spec.<name>`, and the step schedules that name.
 */
export interface ActivityStep extends BaseStep {
  kind: 'activity';
  activity: string;
  args?: unknown;
  startToCloseTimeout?: Duration;
  scheduleToCloseTimeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
  /**
   * Run it as a Temporal local activity, in the worker that runs the run: no activity task, no
   * trip through the server, its result recorded with the next workflow task. For short steps
   * (at most LOCAL_STEP_MAX_TIMEOUT) that are safe to run again, since a worker lost mid-task
   * repeats them; a local step cannot heartbeat.
   */
  local?: boolean;
}

/**
 * A model that may call MCP tools: model → tool calls (in parallel, one activity each) → results
 * → model, up to `maxIterations` turns. The output is `{ answer, iterations, toolCalls }`; each
 * turn shows in the step's `progress`. An agent that may take more turns than the run's
 * `maxInlineAgentTurns` runs its loop in a child workflow that continues as new (its progress
 * then shows the turn of its latest request and, at the end, the last turns).
 */
export interface AgentStep extends BaseStep, ModelStepFields {
  kind: 'agent';
  system?: string;
  prompt: string;
  /** MCP tools the model may call: `server.tool` or `server.*`. */
  tools?: string[];
  /** Tools (same patterns) whose every call waits for a human approval first. */
  requireApproval?: string[];
  approvers?: string[];
  /** Turns in which the model may call tools. Default 10. */
  maxIterations?: number;
  onMaxIterations?: 'fail' | 'finalAnswer';
  /** JSON Schema of the final answer. */
  schema?: Record<string, unknown>;
  maxRepairs?: number;
  /** Longest tool result passed back to the model, in characters. Default 20,000. */
  maxToolResultChars?: number;
  toolTimeout?: Duration;
  toolRetry?: RetrySpec;
}

/** Waits for a human to approve or reject; an optional timeout applies a default decision. */
export interface ApprovalStep extends BaseStep {
  kind: 'approval';
  prompt?: string;
  approvers?: string[];
  timeout?: Duration;
  /** Decision applied when the timeout passes with no answer. Default: reject. */
  onTimeout?: 'approve' | 'reject';
  /** What a rejection does: fail the run (default) or continue with `approved: false`. */
  onReject?: 'fail' | 'continue';
  /** When `timeout` passes undecided: these approvers join, a notification goes out, and `timeout` here starts. */
  escalate?: { approvers: string[]; timeout: Duration };
}

/** Runs the steps of the first case whose condition holds, else `otherwise` (if any). */
export interface BranchStep extends BaseStep {
  kind: 'branch';
  cases: Array<{ when: Condition; steps: Step[] }>;
  otherwise?: Step[];
}

/**
 * Runs a workspace's configured build command (e.g. `pio run -e <target>`) on the `build` task
 * queue, whose worker caps concurrent builds. The command line is server-side config; the spec
 * names the workspace and a target, which must be a plain name.
 */
export interface BuildStep extends BaseStep {
  kind: 'build';
  /** A workspace declared in the build worker's config. */
  workspace: string;
  /** Substituted for `{target}` in the configured command and artifact path. */
  target?: string;
  timeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

/** Runs another registered spec as a child workflow; its output is the child run's output. */
export interface ChildStep extends BaseStep {
  kind: 'child';
  spec: string;
  inputs?: Record<string, unknown>;
}

/**
 * Writes one line to the board's serial console and waits for a line matching `expect` (a
 * regular expression; named groups become `output.groups`): a pattern test, a metrics read.
 */
export interface DeviceCommandStep extends BaseStep {
  kind: 'device_command';
  device?: string;
  send: string;
  expect: string;
  /** How long to wait for the expected line (default: the device's command timeout). */
  timeout?: Duration;
  retry?: RetrySpec;
  onUnreachable?: EscalationSpec;
}

/**
 * Holds one device for all its inner steps (upload, then pattern tests, then metrics), so no
 * other run touches the board in between. Runs queue for the device first come, first served
 * (the device's lock shows the position). The hold is a lease the run renews while it lives;
 * every device action carries the hold's fencing token, which the device worker checks. Every
 * other device its steps name is taken at the start too, all in sorted order.
 *
 * A session does not hold the board while a human decides: approval steps are not allowed
 * inside, and when an inner device step escalates (board offline) the session lets go of the
 * device until the decision, then queues for it again.
 */
export interface DeviceSessionStep extends BaseStep {
  kind: 'device_session';
  device: string;
  /** Lease of the hold (default: the device's configured lease, 5 min). */
  lease?: Duration;
  steps: Step[];
}

/**
 * Uploads a firmware image (usually `${steps.build.output.artifact}`) to a board through its
 * device worker, which verifies it (MD5, boot line). How to upload is the device's server-side
 * config; the spec only names the device and the artifact.
 */
export interface DeviceUploadStep extends BaseStep {
  kind: 'device_upload';
  /** Device id; optional inside a device_session (the session's device). */
  device?: string;
  artifact: string;
  /** Per-attempt limit; default: the device's upload timeout (300 s unless configured). */
  timeout?: Duration;
  retry?: RetrySpec;
  onUnreachable?: EscalationSpec;
}

/** One model call. The output is the reply's text, or the parsed object when `schema` is given. */
export interface LlmStep extends BaseStep, ModelStepFields {
  kind: 'llm';
  system?: string;
  prompt: string;
  /** JSON Schema of a structured reply; an invalid reply is sent back for repair up to `maxRepairs` times (default 2). */
  schema?: Record<string, unknown>;
  maxRepairs?: number;
}

/**
 * Runs `steps` once per item of a list, at most `maxConcurrency` items at a time. Inside, `item`
 * and `index` name the current element. The output is the list of each item's last step output,
 * in item order. The first failing item cancels the others and fails the step. A list longer than
 * the run's `maxInlineMapItems` runs in child workflows of that many items each (fan-out.ts).
 */
export interface MapStep extends BaseStep {
  kind: 'map';
  items: unknown;
  maxConcurrency?: number;
  steps: Step[];
}

/**
 * Branches run concurrently. `failFast` (default): the first failure cancels the other branches
 * and fails the step. `collectAll`: every branch runs to its end; the step succeeds and its output
 * lists each branch's status, output or error.
 */
export interface ParallelStep extends BaseStep {
  kind: 'parallel';
  branches: Step[][];
  mode?: 'failFast' | 'collectAll';
}

/** A durable timer: survives worker and server restarts, costs nothing while it waits. */
export interface SleepStep extends BaseStep {
  kind: 'sleep';
  duration: Duration;
}

/** Calls one MCP tool, addressed `server.tool`; `args` may hold expressions. */
export interface ToolStep extends BaseStep {
  kind: 'tool';
  tool: string;
  args?: Record<string, unknown>;
  startToCloseTimeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

export interface ResearchStep extends BaseStep {
  kind: 'research';
  question: string;
  /** N, default 5. A number or one expression. */
  subQuestions?: Count;
  /** M, default 2 (never more than there are findings). */
  synthesisers?: Count;
  /** Researchers (and synthesisers) running at once, default 10. */
  maxConcurrentAgents?: Count;
  /** The model of every role unless `models` names another. */
  model: string;
  models?: { planner?: string; researcher?: string; synthesiser?: string; executive?: string };
  /** MCP tools the researchers may call, and those that need a human first. */
  tools?: string[];
  requireApproval?: string[];
  /** Turns per researcher, default 5. */
  maxIterations?: number;
  /** Extra instructions per role, added to its system prompt. */
  instructions?: { planner?: string; researcher?: string; synthesiser?: string; executive?: string };
  budget?: Budget;
  timeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

export interface SwarmStep extends BaseStep {
  kind: 'swarm';
  task: string;
  /** K, default 3. A number or one expression. */
  agents?: number | string;
  maxConcurrentAgents?: number | string;
  model: string;
  /** Models the agents use in turn (agent i gets models[i % length]); default: `model` for all. */
  agentModels?: string[];
  judgeModel?: string;
  /** `pick` the best attempt, `merge` them, or let the judge decide (`auto`, default). */
  mode?: 'pick' | 'merge' | 'auto';
  tools?: string[];
  requireApproval?: string[];
  maxIterations?: number;
  budget?: Budget;
  timeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

/** What a human is asked when the board stayed offline. */
export interface EscalationSpec {
  /** How long to wait for a decision (default 24h). */
  timeout?: Duration;
  /** Applied when nobody answers in time (default: skip). */
  onTimeout?: 'skip' | 'abort';
  approvers?: string[];
}

export interface ModelStepFields {
  /** A model name from the worker's models config. */
  model: string;
  maxTokens?: number;
  temperature?: number;
  /** Tokens and/or US dollars this step may spend before a human must raise it. */
  budget?: Budget;
  timeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

export interface RetrySpec {
  maxAttempts?: number;
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maxInterval?: Duration;
  nonRetryableErrorTypes?: string[];
}

/**
 * Branch conditions are JSON, not a string language: nothing to parse, easy to validate,
 * and every operand may be a `${...}` expression.
 */
export type Condition =
  | { eq: [unknown, unknown] }
  | { ne: [unknown, unknown] }
  | { gt: [unknown, unknown] }
  | { gte: [unknown, unknown] }
  | { lt: [unknown, unknown] }
  | { lte: [unknown, unknown] }
  | { in: [unknown, unknown] }
  | { truthy: unknown }
  | { and: Condition[] }
  | { or: Condition[] }
  | { not: Condition };

export type InputType = 'string' | 'number' | 'boolean' | 'object' | 'array';

export interface InputDecl {
  type: InputType;
  description?: string;
  default?: unknown;
  /** Defaults to true when no default is given. */
  required?: boolean;
}

export interface Spec {
  name: string;
  version?: number;
  description?: string;
  inputs?: Record<string, InputDecl>;
  steps: Step[];
  /** The run's result; expressions over inputs and steps. Defaults to every top-level step's output. */
  output?: unknown;
}

/** Every step a spec can hold; a new kind adds its type here and its module to `steps/index.ts`. */
export type Step =
  | ActivityStep
  | ApprovalStep
  | BranchStep
  | ChildStep
  | MapStep
  | ParallelStep
  | SleepStep
  | ToolStep
  | BuildStep
  | DeviceCommandStep
  | DeviceSessionStep
  | DeviceUploadStep
  | LlmStep
  | AgentStep
  | ResearchStep
  | SwarmStep;
