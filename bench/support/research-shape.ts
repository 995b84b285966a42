/**
 * The `research` run both research benches measure (bench/research.ts, bench/scale.ts): N
 * researchers, M synthesisers, against the stand-in model server at a fixed latency per call.
 */
import type { Spec } from '../../workflows/contracts/spec';

export const LATENCY_MS = 200;
export const N = 10;
export const M = 3;

/** One `research` step over the default model; `withTools` gives each researcher one MCP tool. */
export function researchSpec(name: string, withTools = false): Spec {
  return {
    name,
    steps: [
      {
        id: 'research',
        kind: 'research',
        question: 'How do durable workflows change agent orchestration?',
        subQuestions: N,
        synthesisers: M,
        maxConcurrentAgents: N,
        model: 'default',
        ...(withTools && { tools: ['everything.get-sum'] }),
      },
    ],
  };
}
