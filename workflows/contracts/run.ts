/**
 * The contract between the API, the workers and the workflows: names, input and result
 * shapes, update and query definitions, search attributes. Defined once, imported by all.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { BlobRef } from './blobs';
import type { Budget, LedgerState, LedgerSummary, UsageTotals } from './llm';
import type { Spec } from './spec';
import type { DecisionChannel, Identity } from './identity';
import type { WebhookTarget } from './run-events';

export const DEFAULT_TASK_QUEUE = 'orchestrator';
export const RUN_SPEC_WORKFLOW = 'runSpec';

export interface RunOptions {
  /** Largest step output (UTF-8 JSON bytes) a run accepts; bigger outputs fail the step. */
  maxOutputBytes?: number;
  /** Continue-as-new after this many top-level steps (0: only when Temporal suggests it). */
  continueAsNewAfterSteps?: number;
  /** Tokens and/or US dollars the run's model calls may spend before a human must raise it. */
  budget?: Budget;
  /**
   * A `map` over more items runs them in child workflows, this many items per child, so no
   * execution's history grows with the length of the list.
   */
  maxInlineMapItems?: number;
  /** A `research` step with more researchers runs them in child workflows, this many per child. */
  maxInlineAgents?: number;
  /** Step outputs bigger than this (UTF-8 JSON bytes) cross continue-as-new as blob references. */
  maxInlineOutputBytes?: number;
  /**
   * An agent that may take more turns runs its loop in a child workflow that continues as new
   * every few dozen turns, so no execution's history grows with the number of turns.
   */
  maxInlineAgentTurns?: number;
  /** Webhook subscriptions matching this run when it started; the run emits their events. */
  webhooks?: WebhookTarget[];
}

export const DEFAULT_RUN_OPTIONS: Required<RunOptions> = {
  maxOutputBytes: 256 * 1024,
  continueAsNewAfterSteps: 0,
  budget: {},
  maxInlineMapItems: 100,
  maxInlineAgents: 10,
  maxInlineOutputBytes: 64 * 1024,
  maxInlineAgentTurns: 20,
  webhooks: [],
};

export type StepStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled' | 'skipped';

export interface StepRecord {
  id: string;
  kind: string;
  status: StepStatus;
  startedAt: string;
  finishedAt?: string;
  output?: unknown;
  /** Where `output` is kept when the record was carried across continue-as-new without it. */
  outputRef?: BlobRef;
  error?: string;
  /** Tokens and cost of the model calls this step made itself. */
  usage?: UsageTotals;
  /** Live detail a step reports while it runs, e.g. an agent's turns. */
  progress?: unknown;
}

/** Carried across continue-as-new so a long run resumes where it stopped. */
export interface ResumeState {
  nextStep: number;
  /**
   * Records of the steps run so far: every top-level one (for progress), with its output only
   * when a later step or the run's output can still read it (a big one as `outputRef`).
   */
  steps: Record<string, StepRecord>;
  generation: number;
  ledger?: LedgerState;
  /** The chain's first run checked the spec and inputs; `inputs` hold the checked values. */
  checked?: boolean;
  /** Nonces of the signed links this chain accepted: a link works once, across continue-as-new too. */
  usedNonces?: string[];
}

/**
 * A slice of a fan-out (map items, researchers) that a parent run hands to a child run: the
 * child runs `spec.steps` once per item, as the parent would have, with the paths the parent
 * would have used (`<path>[<key>].<id>`). Built by the interpreter from a checked spec, so the
 * child does not check it again (its steps may read the parent's steps through `scope`).
 */
export interface FragmentInput {
  /** Path of the step that fans out, e.g. `each`. */
  path: string;
  /** Key of the first item; the others follow in order. */
  from: number;
  /** Each item's locals, e.g. `{ item, index }`. */
  items: Array<Record<string, unknown>>;
  /** Locals of the scope around the fanning-out step that the items read. */
  locals: Record<string, unknown>;
  /** Records of the parent's steps that the items read (big outputs as `outputRef`). */
  scope: Record<string, StepRecord>;
  maxConcurrency: number;
  /** failFast: the first failing item fails the child; collect: each item's outcome is returned. */
  mode: 'failFast' | 'collect';
}

/** What a fragment child returns: one outcome per item, in order. */
export type FragmentOutcome = { status: 'completed'; output: unknown } | { status: 'failed'; error: string };

export interface RunInput {
  spec: Spec;
  inputs?: Record<string, unknown>;
  /** Specs that `child` steps name, resolved when the run was submitted (recorded in history). */
  childSpecs?: Record<string, Spec>;
  options?: RunOptions;
  resume?: ResumeState;
  /** Set by the interpreter on the child runs of a big fan-out (see FragmentInput). */
  fragment?: FragmentInput;
}

export interface RunResult {
  output: unknown;
  steps: Record<string, StepRecord>;
  usage: LedgerSummary;
}

export interface PendingApproval {
  stepId: string;
  prompt?: string;
  /** Who may decide now (users or groups, see identity.ts mayDecide); after escalation, with the escalation's. */
  approvers?: string[];
  requestedAt: string;
  timeoutAt?: string;
  onTimeout: 'approve' | 'reject';
  /** Named options the decision may carry as `choice` (e.g. retry / skip / abort). */
  choices?: string[];
  /** Set once the first timeout passed and the approval went to its `escalate` approvers. */
  escalatedAt?: string;
  /**
   * `input`: an MCP server asks a person for data during a tool call (elicitation); answered with
   * accept + `content` matching `requestedSchema`, decline, or cancel. Absent: an approval.
   */
  kind?: 'input';
  requestedSchema?: Record<string, unknown>;
  /** The MCP server that asked (inputs, and approvals before a server's sampling request). */
  server?: string;
}

export type RunPhase = 'running' | 'waiting_approval' | 'completed' | 'failed' | 'cancelled';

export interface RunProgress {
  spec: { name: string; version?: number };
  phase: RunPhase;
  /** Paths of the steps running now. */
  current: string[];
  steps: Record<string, StepRecord>;
  pendingApprovals: PendingApproval[];
  /** The latest decisions this run refused after accepting their signal (a few, newest last). */
  refusedDecisions?: RefusedDecision[];
  /** How many times the run continued as new. */
  generation: number;
  usage: LedgerSummary;
}

export interface ApprovalInput {
  stepId: string;
  decision: 'approve' | 'reject';
  /** The decider's user id: from the caller's identity (never from a request body). */
  by: string;
  /** The decider's groups, matched against the step's approvers. */
  groups?: string[];
  /** How the decision arrived; absent in histories from before identity: `api`. */
  channel?: DecisionChannel;
  comment?: string;
  /** One of the pending approval's `choices`. */
  choice?: string;
  /** A signed link's nonce: a link works once (the run keeps the nonces it has seen). */
  nonce?: string;
  /** An input's accepted content (kind `input`, decision approve = accept). */
  content?: Record<string, unknown>;
}

/** A decision as the run recorded it: the input without a link's nonce, and when it was taken. */
export interface ApprovalResult extends Omit<ApprovalInput, 'nonce'> {
  at: string;
}

/**
 * The `approve` signal (Temporal CLI, Web UI): a decision with a token the run verifies through an
 * activity: a scoped decision token (POST /workflows/:id/approvals/:stepId/signal-token: this run,
 * step and decision, once) or the sender's bearer token. A bad token or a sender who may not
 * decide is recorded as a refused decision and changes nothing. The API's history views redact it.
 */
export interface ApprovalSignalInput {
  stepId: string;
  decision: 'approve' | 'reject';
  token: string;
  comment?: string;
  choice?: string;
}

/** A decision the run refused after accepting its signal (see ApprovalSignalInput). */
export interface RefusedDecision {
  stepId: string;
  channel: DecisionChannel;
  /** The sender, when the token named one. */
  by?: string;
  reason: string;
  at: string;
}

/** `nonce`: a scoped decision token's, which the run accepts once (with the link nonces). */
export type TokenCheck = { ok: true; identity: Identity; nonce?: string } | { ok: false; reason: string };

/** What a signal decides, which a scoped decision token must name (absent in histories from before them). */
export interface DecisionScope {
  stepId: string;
  decision: string;
}

/** Registered on the orchestrator worker: checks a signal's token with the API's identity scheme. */
export interface IdentityActivities {
  verifyDecisionToken(token: string, scope?: DecisionScope): Promise<TokenCheck>;
}

export const progressQuery = defineQuery<RunProgress>('progress');
/** An update, not a signal: the caller learns at once whether the step was waiting. */
export const approveUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('approve');
/** The same decision as a signal (an update and a signal may share a name): see ApprovalSignalInput. */
export const approveSignal = defineSignal<[ApprovalSignalInput]>('approve');
/** Memo key the run keeps its pending approvals under (PendingApproval[]), for the inbox. */
export const PENDING_APPROVALS_MEMO = 'pendingApprovals';
/** Memo key set each time an approval closes (ClosedApproval): run events read it from history. */
export const LAST_DECISION_MEMO = 'lastDecision';
/** Memo key set each time a signalled decision is refused (RefusedDecision). */
export const LAST_REFUSAL_MEMO = 'lastRefusal';
/** A decision as the run closed an approval with it: a person's (any channel) or the timeout's default. */
export type ClosedApproval = ApprovalResult & { timedOut: boolean };

export const SPEC_NAME_ATTRIBUTE = defineSearchAttributeKey('AgentSpec', SearchAttributeType.KEYWORD);
export const PENDING_APPROVALS_ATTRIBUTE = defineSearchAttributeKey(
  'AgentPendingApprovals',
  SearchAttributeType.KEYWORD_LIST,
);
/** Who may decide the run's pending approvals (approver entries; `*` when a step names none). */
export const APPROVERS_ATTRIBUTE = defineSearchAttributeKey('AgentApprovers', SearchAttributeType.KEYWORD_LIST);
/** When the run's oldest pending approval was requested (absent when none is pending). */
export const APPROVAL_SINCE_ATTRIBUTE = defineSearchAttributeKey('AgentApprovalSince', SearchAttributeType.DATETIME);
/** On a webhook delivery workflow: the subscription it delivers for. */
export const WEBHOOK_ATTRIBUTE = defineSearchAttributeKey('AgentWebhook', SearchAttributeType.KEYWORD);
/** The run's model usage so far, for visibility queries such as `AgentCostUsd > 1`. */
export const TOKENS_ATTRIBUTE = defineSearchAttributeKey('AgentTokens', SearchAttributeType.INT);
export const COST_USD_ATTRIBUTE = defineSearchAttributeKey('AgentCostUsd', SearchAttributeType.DOUBLE);
/** On a rerun or retry started through the API: the workflow id of the run it repeats. */
export const RERUN_OF_ATTRIBUTE = defineSearchAttributeKey('AgentRerunOf', SearchAttributeType.KEYWORD);
/** Every custom search attribute the project uses: registered by the dev server, tests and operators. */
export const CUSTOM_SEARCH_ATTRIBUTE_KEYS = [
  SPEC_NAME_ATTRIBUTE,
  PENDING_APPROVALS_ATTRIBUTE,
  TOKENS_ATTRIBUTE,
  COST_USD_ATTRIBUTE,
  RERUN_OF_ATTRIBUTE,
  APPROVERS_ATTRIBUTE,
  APPROVAL_SINCE_ATTRIBUTE,
  WEBHOOK_ATTRIBUTE,
] as const;
const CLI_TYPE_NAMES = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.DATETIME]: 'Datetime',
} as const;
/** For `temporal server start-dev --search-attribute NAME=TYPE` and operator setup. */
export const CUSTOM_SEARCH_ATTRIBUTES: Record<string, (typeof CLI_TYPE_NAMES)[keyof typeof CLI_TYPE_NAMES]> =
  Object.fromEntries(
    CUSTOM_SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, CLI_TYPE_NAMES[k.type as keyof typeof CLI_TYPE_NAMES]]),
  );
