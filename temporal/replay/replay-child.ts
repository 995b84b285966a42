/**
 * The replayer process the API forks (see replay-process.ts): bundles the workflow code once,
 * then answers one `{ id, history, workflowId }` message at a time with `{ id, verdict }` or
 * `{ id, error }`. Bundling and replay are CPU work that would stall the API's event loop, and
 * the SDK's native worker runtime stays out of the API process.
 */
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { parseHistoryJson } from './history';
import { bundleWorkflows, PROJECT_WORKFLOWS, quietReplayRuntime, replayHistory } from './replay';
import type { ReplayReply, ReplayRequest } from './replay-process';

quietReplayRuntime();
const workflowsPath = process.argv[2] || PROJECT_WORKFLOWS;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

async function answer(req: ReplayRequest): Promise<ReplayReply> {
  try {
    bundle ??= bundleWorkflows(workflowsPath);
    const code = await bundle.catch((err: unknown) => {
      bundle = undefined; // try again on the next request, e.g. after a fix on disk
      throw new Error(`the workflow code does not bundle: ${(err as Error).message}`);
    });
    return { id: req.id, verdict: await replayHistory(parseHistoryJson(req.history), req.workflowId, code) };
  } catch (err) {
    return { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
}

process.on('message', (req: ReplayRequest) => {
  void answer(req).then((reply) => process.send?.(reply));
});
// The API went away: nothing left to answer.
process.on('disconnect', () => process.exit(0));
