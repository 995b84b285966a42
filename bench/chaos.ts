/**
 * `npm run chaos`: faults during real work. 50 runs of four journalled steps go to two worker
 * processes (the real workers/orchestrator.ts) on a dev server that keeps its state in a SQLite
 * file. While they run, one worker is SIGKILLed (and a new one started), then the other, then the
 * dev server is stopped and started again on the same file and port. Prints how many runs were
 * lost (not completed) and how many completed activities ran again — the two figures durability
 * promises to keep at zero — plus the retries that the kills caused (an activity cut off mid-way
 * runs again by design).
 *
 *   npx tsx bench/chaos.ts [runs=50]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../temporal/cli';
import { freePort, startDevServer, type DevServer } from '../temporal/dev-server';
import { bundleWorkflowsOnce } from '../test/helpers/temporal';
import { RUN_SPEC_WORKFLOW, type RunInput, type RunResult } from '../workflows/contracts/run';
import type { Spec } from '../workflows/contracts/spec';
import { newJournal, readJournal, waitFor } from '../test/helpers/journal';
import { loadAverage, machineLine } from './support/stats';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process';

const STEPS = 4;
const STEP_MS = 400;
/** How long all runs may take after the last fault before the rest count as lost. */
const SETTLE_TIMEOUT_MS = 180_000;

function spec(journal: string, run: number): Spec {
  return {
    name: 'chaos',
    steps: Array.from({ length: STEPS }, (_, i) => ({
      id: `s${i + 1}`,
      kind: 'activity' as const,
      activity: 'test.record',
      args: { journal, label: `${run}:s${i + 1}`, ms: STEP_MS },
      heartbeatTimeout: '2s',
      retry: { initialInterval: '200ms', maxAttempts: 20 },
    })),
  };
}

function say(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? process.env.CHAOS_RUNS ?? 50);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('runs must be a positive integer');
  console.log(machineLine());
  console.log(`chaos: ${runs} runs × ${STEPS} steps of ${STEP_MS} ms, 2 workers; load average ${loadAverage()}`);
  const cliPath = await ensureTemporalCli();
  const dir = mkdtempSync(path.join(tmpdir(), 'chaos-'));
  const dbFile = path.join(dir, 'temporal.db');
  const port = await freePort();
  const startServer = () => startDevServer({ cliPath, dbFile, port, uiPort: false });
  let server: DevServer = await startServer();
  const taskQueue = `chaos-${randomUUID()}`;
  const workers: WorkerProcess[] = [];
  const bundleCode = (await bundleWorkflowsOnce()).code;
  const startWorker = async () => {
    const w = await startWorkerProcess({ address: server.address, taskQueue, bundleCode });
    workers.push(w);
    return w;
  };
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const journal = newJournal();
  const began = Date.now();
  try {
    const [a, b] = [await startWorker(), await startWorker()];
    const handles = await Promise.all(
      Array.from({ length: runs }, (_, i) =>
        client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
          taskQueue,
          workflowId: `chaos-${i}-${randomUUID()}`,
          args: [{ spec: spec(journal, i) }],
        }),
      ),
    );
    say(`${runs} runs started`);
    const outcomes = Promise.allSettled(handles.map((h) => h.result()));

    // Each fault waits for work to be under way (the journal), not for a fixed time, so it lands
    // mid-run however loaded the machine is.
    const ended = () => readJournal(journal).filter((e) => e.event === 'end').length;
    const total = runs * STEPS;
    const whenEnded = (share: number) =>
      waitFor(`${Math.round(share * 100)}% of the steps to end`, () => ended() >= share * total, SETTLE_TIMEOUT_MS);
    await whenEnded(0.15);
    process.kill(a!.pid, 'SIGKILL');
    say(`worker ${a!.pid} SIGKILLed (${ended()} of ${total} steps ended)`);
    await startWorker();
    await whenEnded(0.4);
    process.kill(b!.pid, 'SIGKILL');
    say(`worker ${b!.pid} SIGKILLed (${ended()} of ${total} steps ended)`);
    await startWorker();
    await whenEnded(0.65);
    await server.stop();
    say(`dev server stopped (${ended()} of ${total} steps ended)`);
    await sleep(1000);
    server = await startServer();
    say('dev server started again on the same file');

    const settled = await Promise.race([outcomes, sleep(SETTLE_TIMEOUT_MS).then(() => undefined)]);
    const completed = settled?.filter((o) => o.status === 'fulfilled').length ?? 0;
    const entries = readJournal(journal);
    const count = (event: string) => {
      const byLabel = new Map<string, number>();
      for (const e of entries.filter((x) => x.event === event)) byLabel.set(e.label, (byLabel.get(e.label) ?? 0) + 1);
      return byLabel;
    };
    const ends = count('end');
    const starts = count('start');
    const repeatedAfterCompletion = [...ends.values()].filter((n) => n > 1).length;
    const retried = [...starts.entries()].filter(([, n]) => n > 1).length;
    const executions = [...starts.values()].reduce((s, n) => s + n, 0);
    console.log(
      [
        '',
        `runs completed:                          ${completed} / ${runs}`,
        `runs lost:                               ${runs - completed}`,
        `activities (steps) in all:               ${runs * STEPS}, executions ${executions}`,
        `completed activities that ran again:     ${repeatedAfterCompletion}`,
        `activities cut off by a kill and retried: ${retried}`,
        `wall time:                               ${((Date.now() - began) / 1000).toFixed(1)} s`,
        `load average after:                      ${loadAverage()}`,
      ].join('\n'),
    );
    if (completed < runs) process.exitCode = 1;
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await connection.close().catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
