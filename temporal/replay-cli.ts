/**
 * `npm run replay -- <workflowId | history.json> [options]`: replays a run's history against
 * this checkout's workflow code and says "deterministic" or where it diverges. A workflow id is
 * fetched from Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, or a profile: temporal/connection.ts); a file is a history as the CLI
 * (`temporal workflow show --output json`), the Web UI or GET /workflows/:id/history wrote it.
 *
 * Exit code: 0 deterministic, 1 not (or replay failed), 2 the history could not be read.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadTemporalConfig } from './config';
import { temporalConnectOptions } from './connection';
import { fetchHistory, parseHistoryJson, type History } from './replay/history';
import {
  bundleWorkflows,
  PROJECT_WORKFLOWS,
  quietReplayRuntime,
  replayHistory,
  type ReplayVerdict,
} from './replay/replay';

const USAGE = `usage: npm run replay -- <workflowId | history.json> [options]

  --run-id <id>        with a workflow id: that run instead of the latest
  --workflow-id <id>   with a file: the run's workflow id (histories do not hold it; runs
                       with child runs need it)
  --workflows <file>   workflow module to replay against (default: this checkout's workflows/)
  --json               print the verdict as JSON`;

/** Stands in for the id of a history file's run when it starts no child runs (nothing reads it then). */
const UNNAMED_RUN = 'replayed-history';

class UsageError extends Error {}

interface Loaded {
  history: History;
  workflowId: string;
  source: string;
}

async function loadFromFile(file: string, workflowId: string | undefined): Promise<Loaded> {
  const history = parseHistoryJson(await readFile(file, 'utf8'));
  const startsChildren = history.events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  if (!workflowId && startsChildren) {
    throw new UsageError(
      `${file} records child runs, whose ids derive from the run's workflow id: pass --workflow-id <id>`,
    );
  }
  return { history, workflowId: workflowId ?? UNNAMED_RUN, source: file };
}

async function loadFromTemporal(workflowId: string, runId: string | undefined): Promise<Loaded> {
  const config = loadTemporalConfig();
  const connection = await Connection.connect(temporalConnectOptions(config));
  try {
    const client = new Client({ connection, namespace: config.namespace, dataConverter: config.dataConverter });
    const resolvedRunId = runId ?? (await client.workflow.getHandle(workflowId).describe()).runId;
    const history = await fetchHistory(client, workflowId, resolvedRunId);
    return { history, workflowId, source: `run ${workflowId} (${resolvedRunId}) on ${config.address}` };
  } finally {
    await connection.close();
  }
}

function printVerdict(v: ReplayVerdict): void {
  if (v.outcome === 'deterministic') {
    console.log(`deterministic: ${v.message}`);
    return;
  }
  if (v.outcome === 'failed') {
    console.log(`REPLAY FAILED: ${v.message}`);
    return;
  }
  const d = v.divergence;
  console.log('NOT deterministic');
  if (d.eventId !== null) console.log(`  event:     ${d.eventId} (${d.eventType})`);
  console.log(`  recorded:  ${d.recorded}`);
  console.log(`  code:      ${d.code}`);
  if (d.stepPath) console.log(`  step:      ${d.stepPath}`);
  console.log(`  core says: ${d.detail}`);
  console.log('');
  console.log(v.message);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'run-id': { type: 'string' },
      'workflow-id': { type: 'string' },
      workflows: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [target, ...extra] = positionals;
  if (!target || extra.length > 0) throw new UsageError('give one workflow id or history file');
  const isFile = existsSync(target);
  if (!isFile && target.endsWith('.json')) throw new UsageError(`no such file: ${target}`);
  if (isFile && values['run-id']) throw new UsageError('--run-id goes with a workflow id, not a file');
  if (!isFile && values['workflow-id']) throw new UsageError('--workflow-id goes with a history file');

  quietReplayRuntime();
  const loaded = isFile
    ? await loadFromFile(target, values['workflow-id'])
    : await loadFromTemporal(target, values['run-id']);
  const workflows = values.workflows ? path.resolve(values.workflows) : PROJECT_WORKFLOWS;
  if (!values.json) {
    const events = loaded.history.events?.length ?? 0;
    console.log(`replaying ${loaded.source} (${events} events) against ${path.relative(process.cwd(), workflows)}`);
  }
  const verdict = await replayHistory(loaded.history, loaded.workflowId, await bundleWorkflows(workflows));
  if (values.json) console.log(JSON.stringify(verdict, null, 2));
  else printVerdict(verdict);
  return verdict.outcome === 'deterministic' ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`replay: ${err instanceof Error ? err.message : String(err)}`);
    if (usage) console.error(USAGE);
    process.exit(2);
  },
);
