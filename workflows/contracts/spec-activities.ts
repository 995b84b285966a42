/** Activity names shared by the `activity` step kind and the orchestrator worker's registry. */

/** The worker registers spec activities under this prefix; no internal activity carries it. */
export const SPEC_ACTIVITY_PREFIX = 'spec.';

/** Spec activities every orchestrator worker has. */
export const BUILT_IN_SPEC_ACTIVITIES = ['http'] as const;

export type BuiltInSpecActivity = (typeof BUILT_IN_SPEC_ACTIVITIES)[number];

/** What the workflows call themselves (checked against the worker's registry by the compiler). */
export const INTERNAL_ACTIVITY_NAMES = [
  'llmChat',
  'llmChatTurn',
  'agentCallTool',
  'mcpListTools',
  'mcpCallTool',
  'mcpInventory',
] as const;

export type InternalActivityName = (typeof INTERNAL_ACTIVITY_NAMES)[number];

/** The failure type of a step naming an activity the worker does not offer to specs. */
export const UNKNOWN_ACTIVITY = 'UnknownActivity';
