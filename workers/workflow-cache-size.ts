/**
 * How many runs the worker keeps in its sticky cache (maxCachedWorkflows). A cached run keeps
 * its whole sandbox in the SDK's workflow thread: with reuseV8Context (the SDK's default) every
 * run evaluates the workflow bundle's modules again (the SDK shares only what it preloads), so a
 * run costs about the same whatever its data. The cache is sized by memory: a budget in MiB
 * divided by what one cached run measured (bench/scale.ts, BENCHMARKS.md), never more than the
 * workflow thread's V8 heap can hold. An explicit count still wins.
 */
import v8 from 'node:v8';
import { ConfigError } from '../config/config-errors';

/** Live heap of one cached `research` run (10 researchers, 3 synthesisers): 1.15 MiB in a heap snapshot at 100 runs. */
export const CACHED_RUN_MIB = 1.2;
/** Heap the workflow thread needs besides the cache: the bundle, the SDK, one activation's garbage. */
export const WORKFLOW_THREAD_BASE_MIB = 256;
/** The cache's budget by default: with the rest of the worker (about 400 MiB), an RSS near 1.2 GB at most. */
export const DEFAULT_BUDGET_MIB = 768;
/** The smallest cache the SDK accepts besides 0 (no cache). */
const MIN_CACHED = 2;

export const BUDGET_KEY = 'ORCHESTRATOR_WORKFLOW_CACHE_MB';

/** The V8 heap limit of this process's isolates, in MiB; worker threads inherit it (--max-old-space-size). */
export const heapLimitMib = (): number => v8.getHeapStatistics().heap_size_limit / 2 ** 20;

export interface WorkflowCacheInput {
  /** ORCHESTRATOR_MAX_CACHED_WORKFLOWS: a count that wins over the budget; 0 turns the cache off. */
  count?: number;
  /** ORCHESTRATOR_WORKFLOW_CACHE_MB: the heap the cache may take; by default DEFAULT_BUDGET_MIB, or what fits. */
  budgetMib?: number;
  /** The workflow thread's V8 heap limit. */
  heapLimitMib: number;
}

export function workflowCacheSize({ count, budgetMib, heapLimitMib: limit }: WorkflowCacheInput): number {
  if (count !== undefined) return count;
  const room = Math.floor(limit - WORKFLOW_THREAD_BASE_MIB);
  if (budgetMib === undefined) return cachedRuns(Math.min(DEFAULT_BUDGET_MIB, room));
  if (budgetMib > room) {
    throw new ConfigError('environment', [
      {
        key: BUDGET_KEY,
        message:
          `${budgetMib} MiB does not fit the workflow thread's V8 heap (limit ${Math.round(limit)} MiB, ` +
          `${WORKFLOW_THREAD_BASE_MIB} MiB of it for the thread itself): at most ${Math.max(room, 0)}, ` +
          `or raise --max-old-space-size in NODE_OPTIONS`,
      },
    ]);
  }
  return cachedRuns(budgetMib);
}

const cachedRuns = (budgetMib: number) => Math.max(MIN_CACHED, Math.floor(budgetMib / CACHED_RUN_MIB));
