/**
 * The REST API under load, each figure beside its floor. The worker runs as its own process (the
 * real entry, as `npm start` runs it); the Nest app (real bearer auth, as the e2e tests start it),
 * the Temporal client and this load generator share this process; the dev server is another.
 *
 * 1. Starts at fixed rates (open loop, `seconds` each): `POST /workflows` with an inline spec
 *    against the API's own start call made directly (startSpecRun on the same client: one
 *    `client.workflow.start`, same memo and search attribute), alternating which path goes first
 *    per rate. The runs wait in a 1 h sleep, so the worker does one task per run and the figures
 *    are the start path's, not the worker's backlog.
 * 2. `GET /workflows/:id` while runs of 3 no-op steps are started through the API at 50 and
 *    100/s: reads at a fixed rate of runs this phase started (running or closed by then), each
 *    beside a `describe()` of the same run from the client (what a status read needs at least).
 *    The runs are drained before the next phase.
 * 3. Decisions one at a time and 200 at once: bench/approval-resume.ts measures them already.
 *
 *   npx tsx bench/api-load.ts [rates=25,50,100,200] [seconds=5] [get-rates=50,100] [gets-per-second=20]
 *   (or BENCH_RATES, BENCH_SECONDS, BENCH_GET_RATES, BENCH_GETS_PER_SECOND)
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestApp } from '../test/helpers/api-app';
import type { RunDetail, StartRunResponse } from '../api/workflows/run-views';
import { runWorkflowId } from '../api/workflows/run-identity';
import { startSpecRun } from '../api/workflows/start-spec-run';
import { testAuth } from '../test/helpers/api-auth';
import { createTestEnv } from '../test/helpers/temporal';
import type { Spec } from '../workflows/contracts/spec';
import { atRate, errorNote, type Paced } from './support/pacing';
import { fixed, loadAverage, machineLine, ms, ratio, spread, table } from './support/stats';
import { startWorkerProcess } from './support/worker-process';

/** Waits: the start path alone. */
const SLEEPING: Spec = { name: 'bench-api-sleep', steps: [{ id: 'wait', kind: 'sleep', duration: '1h' }] };
/** Work for the worker while GETs read: 3 no-op steps (test/fixtures/test-activities.ts). */
const THREE_STEPS: Spec = {
  name: 'bench-api-steps',
  steps: ['s1', 's2', 's3'].map((id) => ({ id, kind: 'activity', activity: 'test.echo' })),
};
const DRAIN_CAP_MS = 120_000;

function argument(index: number, envName: string): string | undefined {
  return process.argv[2 + index] ?? process.env[envName];
}
function numbers(index: number, envName: string, fallback: number[]): number[] {
  const raw = argument(index, envName);
  const values = raw === undefined ? fallback : raw.split(',').map(Number);
  if (!values.every((v) => Number.isFinite(v) && v > 0)) throw new Error(`${envName} must be positive numbers`);
  return values;
}

async function main(): Promise<void> {
  const rates = numbers(0, 'BENCH_RATES', [25, 50, 100, 200]);
  const [seconds] = numbers(1, 'BENCH_SECONDS', [5]) as [number];
  const getRates = numbers(2, 'BENCH_GET_RATES', [50, 100]);
  const [getsPerSecond] = numbers(3, 'BENCH_GETS_PER_SECOND', [20]) as [number];
  console.log(machineLine());

  const env = await createTestEnv();
  const taskQueue = `bench-api-${randomUUID()}`;
  const worker = await startWorkerProcess({ address: env.address, taskQueue });
  const auth = testAuth();
  const temporal = { address: env.address, namespace: 'default', uiUrl: '', taskQueue };
  const app = await startTestApp({ temporal, auth: auth.auth, client: env.client });
  const api = app.baseUrl;

  const viaApi = async (spec: Spec): Promise<string> => {
    const res = await fetch(`${api}/workflows`, {
      method: 'POST',
      headers: { ...auth.header('operator'), 'content-type': 'application/json' },
      body: JSON.stringify({ spec, inputs: {} }),
    });
    if (res.status !== 201) throw new Error(`POST /workflows answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as StartRunResponse).workflowId;
  };
  const direct = async (spec: Spec): Promise<string> => {
    const handle = await startSpecRun(env.client, taskQueue, {
      workflowId: runWorkflowId(spec.name, randomUUID()),
      input: { spec, inputs: {} },
      requestHash: 'bench',
      summary: `Spec ${spec.name}`,
    });
    return handle.workflowId;
  };
  const read = async (id: string): Promise<string> => {
    const res = await fetch(`${api}/workflows/${encodeURIComponent(id)}`, { headers: auth.header('viewer') });
    if (res.status !== 200) throw new Error(`GET /workflows/:id answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as RunDetail).status;
  };

  try {
    // Warm both paths (JIT, connections, the API's first request) before anything is timed.
    for (let i = 0; i < 5; i++) await Promise.all([viaApi(SLEEPING), direct(SLEEPING)]);

    const startRows: string[][] = [];
    for (const [i, rate] of rates.entries()) {
      const order = i % 2 === 0 ? (['api', 'direct'] as const) : (['direct', 'api'] as const);
      const paced: Partial<Record<(typeof order)[number], Paced<string>>> = {};
      for (const via of order) {
        await sleep(3000); // the previous phase's first workflow tasks
        paced[via] = await atRate(rate, seconds, () => (via === 'api' ? viaApi(SLEEPING) : direct(SLEEPING)));
      }
      const { api: byApi, direct: byClient } = paced as Required<typeof paced>;
      const a = spread(byApi.latencies);
      const d = spread(byClient.latencies);
      startRows.push([
        String(rate),
        ms(a.p50),
        ms(a.p95),
        ms(d.p50),
        ms(d.p95),
        ratio(a.p50, d.p50),
        ratio(a.p95, d.p95),
        `${fixed(byApi.sentPerSecond, 0)} / ${fixed(byClient.sentPerSecond, 0)}`,
        loadAverage(),
        [errorNote(byApi.errors), errorNote(byClient.errors)].filter(Boolean).join('; '),
      ]);
    }
    console.log(`\nStarts, ${seconds} s per path and rate (runs sleep 1 h; API first at the 1st, 3rd, … rate):`);
    console.log(
      table(
        [
          'starts/s',
          'API p50',
          'API p95',
          'direct p50',
          'direct p95',
          'p50 API / direct',
          'p95 API / direct',
          'sent/s API / direct',
          'load (1 min)',
          'errors',
        ],
        startRows,
      ),
    );

    const getRows: string[][] = [];
    for (const rate of getRates) {
      await sleep(3000);
      const started: string[] = [];
      const statuses: Record<string, number> = {};
      const describes: number[] = [];
      const describeErrors: unknown[] = [];
      const starting = atRate(rate, seconds, async () => {
        const id = await viaApi(THREE_STEPS);
        started.push(id);
        return id;
      });
      // Reads begin once the first run exists; each tick reads one started run both ways at once.
      while (started.length === 0) await sleep(10);
      const reading = atRate(getsPerSecond, seconds, async () => {
        const id = started[Math.floor(Math.random() * started.length)]!;
        const t0 = performance.now();
        const floor = env.client.workflow
          .getHandle(id)
          .describe()
          .then(
            () => void describes.push(performance.now() - t0),
            (err: unknown) => void describeErrors.push(err),
          );
        const status = await read(id);
        statuses[status] = (statuses[status] ?? 0) + 1;
        await floor;
      });
      const [starts, reads] = await Promise.all([starting, reading]);
      const load = loadAverage();
      const t0 = performance.now();
      const drained = await Promise.race([
        Promise.all(started.map((id) => env.client.workflow.getHandle(id).result())).then(
          () => true,
          () => true,
        ),
        // Unreferenced: a drain that finished must not keep the process alive for the cap.
        sleep(DRAIN_CAP_MS, false, { ref: false }),
      ]);
      const drainS = (performance.now() - t0) / 1000;
      const g = spread(reads.latencies);
      const d = spread(describes);
      getRows.push([
        String(rate),
        ms(g.p50),
        ms(g.p95),
        ms(d.p50),
        ms(d.p95),
        ratio(g.p95, d.p95),
        Object.entries(statuses)
          .map(([s, n]) => `${n} ${s}`)
          .join(', '),
        ms(spread(starts.latencies).p95),
        drained ? `${fixed(drainS)} s` : `> ${DRAIN_CAP_MS / 1000} s`,
        load,
        [errorNote(starts.errors), errorNote(reads.errors), errorNote(describeErrors)].filter(Boolean).join('; '),
      ]);
    }
    console.log(
      `\nGET /workflows/:id at ${getsPerSecond}/s while 3-step runs start through the API (${seconds} s; reads of this phase's runs):`,
    );
    console.log(
      table(
        [
          'starts/s',
          'GET p50',
          'GET p95',
          'describe p50',
          'describe p95',
          'p95 GET / describe',
          'statuses read',
          'start p95',
          'all closed after',
          'load (1 min)',
          'errors',
        ],
        getRows,
      ),
    );
    console.log('\nDecisions one at a time and 200 at once: npx tsx bench/approval-resume.ts');
  } finally {
    await app.stop();
    await worker.stop();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
