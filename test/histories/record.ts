/**
 * `npm run record-histories [-- NAME...]`: runs every scenario of scenarios.ts (or those whose
 * name contains one of the NAMEs) against a dev server, workers, MCP servers and a simulated board
 * it starts itself (bed.ts), and writes each execution's history as the Temporal CLI exports it
 * (`temporal workflow show --output json`) into test/histories: the run, each run it continued
 * as new into, each child run and theirs, and the device's lock workflow. workflow-ids.json maps
 * each file to its workflow id, which replay needs (child ids derive from it).
 *
 * Re-record only for a deliberate change that the corpus should now show, never to make a failing
 * replay pass: a failing replay means a run in flight would break, and the change needs patched().
 * Files no scenario writes (histories recorded by older code, e.g. budget-approval-legacy.json)
 * are kept with their entries: they prove that patched() changes still replay the old way.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { ensureTemporalCli } from '../../temporal/cli';
import {
  approveSignal,
  approveUpdate,
  progressQuery,
  RUN_SPEC_WORKFLOW,
  SPEC_NAME_ATTRIBUTE,
  type RunInput,
} from '../../workflows/contracts/run';
import { deviceLockWorkflowId } from '../../workflows/contracts/device';
import { DEFAULT_MODEL_SCRIPT, startRecordingBed, type RecordingBed } from './bed';
import { DEVICE_LOCK_SCENARIO, SCENARIOS, type Scenario } from './scenarios';

const DIR = __dirname;
const IDS_FILE = path.join(DIR, 'workflow-ids.json');
const RUN_TIMEOUT_MS = 120_000;
/** How long a child (e.g. a lease keeper being cancelled) may take to close before it is recorded as it is. */
const CLOSE_TIMEOUT_MS = 15_000;
const run = promisify(execFile);

interface Execution {
  workflowId: string;
  runId: string;
  /** 1 for the first run of its workflow id, 2 for the run it continued as new into, ... */
  runNumber: number;
}

interface HistoryJson {
  events: Array<Record<string, unknown> & { eventType: string }>;
}

/** The scenario a file belongs to: its name up to the first dot. */
const scenarioOfFile = (file: string): string => file.replace(/\.json$/, '').split('.')[0] as string;

/** `<scenario>[.<rest of the workflow id>][.run-N].json`, with characters a file name should not have replaced. */
function fileFor(scenario: string, e: Execution): string {
  const rest = e.workflowId === scenario ? '' : e.workflowId.replace(new RegExp(`^${scenario}\\.`), '');
  const name = [scenario, rest, e.runNumber > 1 ? `run-${e.runNumber}` : '']
    .filter(Boolean)
    .join('.')
    .replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${name}.json`;
}

async function waitClosed(client: Client, e: Execution): Promise<boolean> {
  const until = Date.now() + CLOSE_TIMEOUT_MS;
  for (;;) {
    const { status } = await client.workflow.getHandle(e.workflowId, e.runId).describe();
    if (status.name !== 'RUNNING') return true;
    if (Date.now() > until) return false;
    await delay(100);
  }
}

/**
 * Every execution reachable from the first: runs it continued as new into and child runs, found
 * in each history's events; each history exported by the CLI.
 */
async function exportExecutions(
  cli: string,
  bed: RecordingBed,
  first: Execution,
  opts: { waitForClose: boolean },
): Promise<Array<{ execution: Execution; json: string; events: number; open: boolean }>> {
  const out: Array<{ execution: Execution; json: string; events: number; open: boolean }> = [];
  const queue = [first];
  for (let e = queue.shift(); e; e = queue.shift()) {
    const closed = opts.waitForClose ? await waitClosed(bed.env.client, e) : false;
    const { stdout } = await run(
      cli,
      [
        'workflow',
        'show',
        '--address',
        bed.env.address,
        '--namespace',
        'default',
        '-w',
        e.workflowId,
        '-r',
        e.runId,
        '--output',
        'json',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const history = JSON.parse(stdout) as HistoryJson;
    for (const event of history.events) {
      const child = (
        event.childWorkflowExecutionStartedEventAttributes as { workflowExecution?: Execution } | undefined
      )?.workflowExecution;
      if (child) queue.push({ workflowId: child.workflowId, runId: child.runId, runNumber: 1 });
      const next = (event.workflowExecutionContinuedAsNewEventAttributes as { newExecutionRunId?: string } | undefined)
        ?.newExecutionRunId;
      if (next) queue.push({ workflowId: e.workflowId, runId: next, runNumber: e.runNumber + 1 });
    }
    out.push({ execution: e, json: stdout, events: history.events.length, open: !closed });
  }
  return out;
}

/** Answers the approvals the runs wait on, as the scenario decides, until `settled`. */
async function answerApprovals(bed: RecordingBed, s: Scenario, settled: () => boolean): Promise<void> {
  if (s.decide === 'unanswered') return;
  const decide = s.decide ?? (() => ({ decision: 'approve' as const }));
  const ids = [s.name, ...(s.approvalsOn ?? []).map((suffix) => `${s.name}.${suffix}`)];
  const answered = new Set<string>();
  while (!settled()) {
    for (const id of ids) {
      const handle = bed.env.client.workflow.getHandle(id);
      const progress = await handle.query(progressQuery).catch(() => undefined);
      for (const a of progress?.pendingApprovals ?? []) {
        const key = `${id}/${a.stepId}/${a.requestedAt}`;
        if (answered.has(key)) continue;
        answered.add(key);
        if (s.signals) {
          for (const signal of s.signals) await handle.signal(approveSignal, { stepId: a.stepId, ...signal });
          continue;
        }
        // The recorder is in every group an approval names.
        const groups = (a.approvers ?? []).map((entry) => entry.replace(/^group:/, ''));
        await handle.executeUpdate(approveUpdate, {
          args: [{ stepId: a.stepId, by: 'recorder', groups, ...decide(a) }],
        });
      }
    }
    await delay(100);
  }
}

async function runScenario(cli: string, bed: RecordingBed, s: Scenario): Promise<Execution> {
  bed.setModel(s.model ?? DEFAULT_MODEL_SCRIPT);
  const input: RunInput = {
    spec: s.spec,
    inputs: typeof s.inputs === 'function' ? s.inputs(bed.facts) : (s.inputs ?? {}),
    ...(s.childSpecs && { childSpecs: s.childSpecs }),
    ...(s.options && { options: s.options }),
  };
  const handle = await bed.env.client.workflow.start(RUN_SPEC_WORKFLOW, {
    taskQueue: bed.taskQueue,
    workflowId: s.name,
    args: [input],
    typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: s.spec.name }],
  });
  let settled = false;
  const ended = handle.result().then(
    () => 'completed' as const,
    (err: unknown) => ({ failed: err }),
  );
  void ended.finally(() => (settled = true));
  const answering = answerApprovals(bed, s, () => settled);
  // Not ref'd: the pending timeout must not keep the recorder alive once everything is done.
  const outcome = await Promise.race([
    ended,
    delay(RUN_TIMEOUT_MS, undefined, { ref: false }).then(() => {
      throw new Error(`${s.name}: the run did not end within ${RUN_TIMEOUT_MS / 1000} s`);
    }),
  ]);
  settled = true;
  await answering;
  const status = outcome === 'completed' ? 'completed' : 'failed';
  const first = { workflowId: s.name, runId: handle.firstExecutionRunId, runNumber: 1 };
  if (status !== s.expect) {
    // Kept for a look at what went wrong, outside the corpus.
    const dir = mkdtempSync(path.join(tmpdir(), `${s.name}-`));
    for (const { execution, json } of await exportExecutions(cli, bed, first, { waitForClose: false }))
      writeFileSync(path.join(dir, fileFor(s.name, execution)), json);
    const why = outcome === 'completed' ? '' : `: ${errorChain(outcome.failed)}`;
    throw new Error(`${s.name}: the run ${status}, expected it to be ${s.expect}${why} (histories in ${dir})`);
  }
  return first;
}

function errorChain(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(String(e.message));
  }
  return parts.join(' ← ');
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const chosen = SCENARIOS.filter((s) => filters.length === 0 || filters.some((f) => s.name.includes(f)));
  const withLock = filters.length === 0 || filters.some((f) => DEVICE_LOCK_SCENARIO.includes(f));
  if (chosen.length === 0 && !withLock) throw new Error(`no scenario matches ${filters.join(', ')}`);
  for (const s of SCENARIOS) {
    if (!/^[a-z0-9-]+$/.test(s.name))
      throw new Error(`scenario name ${s.name}: lower-case letters, digits and dashes only`);
  }

  const cli = await ensureTemporalCli();
  const ids = JSON.parse(readFileSync(IDS_FILE, 'utf8')) as Record<string, string>;
  const started = Date.now();
  const bed = await startRecordingBed((line) => console.log(line));
  const written: Record<string, string> = {};
  const recordedScenarios = new Set<string>();
  let bytes = 0;
  const write = (scenario: string, exported: Awaited<ReturnType<typeof exportExecutions>>) => {
    recordedScenarios.add(scenario);
    for (const { execution, json, events, open } of exported) {
      const file = fileFor(scenario, execution);
      if (file in written) throw new Error(`two executions map to ${file}`);
      writeFileSync(path.join(DIR, file), json);
      written[file] = execution.workflowId;
      bytes += Buffer.byteLength(json);
      console.log(
        `  ${file}: ${events} events, ${(Buffer.byteLength(json) / 1024).toFixed(1)} KiB${open ? ' (still running)' : ''}`,
      );
    }
  };
  try {
    for (const s of chosen) {
      const t = Date.now();
      console.log(`${s.name}: ${s.covers}`);
      const first = await runScenario(cli, bed, s);
      write(s.name, await exportExecutions(cli, bed, first, { waitForClose: true }));
      console.log(`  (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
    if (withLock) {
      // The lock never ends: recorded as it stands after the device scenarios.
      const lockId = deviceLockWorkflowId(bed.facts.deviceId);
      const described = await bed.env.client.workflow.getHandle(lockId).describe();
      const firstRunId = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
      console.log(`${DEVICE_LOCK_SCENARIO}: the lock workflow of ${bed.facts.deviceId}`);
      write(
        DEVICE_LOCK_SCENARIO,
        await exportExecutions(
          cli,
          bed,
          { workflowId: lockId, runId: firstRunId, runNumber: 1 },
          { waitForClose: false },
        ),
      );
    }
  } finally {
    await bed.stop();
  }

  // A re-recorded scenario's old files go (a child id may have changed); everything else stays.
  for (const file of Object.keys(ids)) {
    if (recordedScenarios.has(scenarioOfFile(file)) && !(file in written)) {
      rmSync(path.join(DIR, file), { force: true });
      delete ids[file];
    }
  }
  const merged = Object.fromEntries(Object.entries({ ...ids, ...written }).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(IDS_FILE, `${JSON.stringify(merged, null, 2)}\n`);
  console.log(
    `recorded ${Object.keys(written).length} histories of ${recordedScenarios.size} scenarios ` +
      `(${(bytes / 1024).toFixed(0)} KiB) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
