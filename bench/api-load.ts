/**
 * The REST API under load, each figure beside its floor. Four processes, as `npm start` runs them:
 * the dev server, the worker (workers/orchestrator.ts), the API (api/main.ts: its own Temporal
 * connection, real bearer auth from a static tokens file, its request log at the default level)
 * and this load generator with its own Temporal client for the direct calls. Each phase reports
 * the CPU each process spent per request, from /proc (bench/support/cpu.ts).
 *
 * 1. Starts at fixed rates (open loop, `seconds` each): `POST /workflows` with an inline spec
 *    against the API's own start call made directly (startSpecRun from this process: one
 *    `client.workflow.start`, same memo and search attribute), alternating which path goes first
 *    per rate. The runs wait in a 1 h sleep, so the worker does one task per run and the figures
 *    are the start path's, not the worker's backlog. At the keep-alive rate (default 50/s) the API
 *    path runs once more with `Connection: close` on every request (no HTTP keep-alive).
 * 2. `GET /workflows/:id` while runs of 3 no-op steps are started through the API at 50 and
 *    100/s: reads at a fixed rate of runs this phase started (running or closed by then), each
 *    beside a `describe()` of the same run from the client (what a status read needs at least).
 *    The runs are drained before the next phase.
 * 3. Decisions one at a time and 200 at once: bench/approval-resume.ts measures them already.
 *
 *   npx tsx bench/api-load.ts [rates=25,50,100,200] [seconds=5] [get-rates=50,100] [gets-per-second=20]
 *   (or BENCH_RATES, BENCH_SECONDS, BENCH_GET_RATES, BENCH_GETS_PER_SECOND; BENCH_KEEPALIVE_RATE=0 skips
 *   the keep-alive row)
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunDetail, StartRunResponse } from '../api/workflows/run-views';
import { runWorkflowId } from '../api/workflows/run-identity';
import { startSpecRun } from '../api/workflows/start-spec-run';
import { testAuth } from '../test/helpers/api-auth';
import { createTestEnv } from '../test/helpers/temporal';
import type { Spec } from '../workflows/contracts/spec';
import { startApiProcess } from './support/api-process';
import { cpuPerCall, devServerPid, standardProcesses } from './support/cpu';
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
/** Closed runs read beside the running ones in the GET phases. */
const CLOSED_RUNS = 20;

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

  const keepAliveRate = Number(process.env.BENCH_KEEPALIVE_RATE ?? 50);

  const env = await createTestEnv();
  const taskQueue = `bench-api-${randomUUID()}`;
  const auth = testAuth();
  // Drain reads (result()) still waiting at the end are cancelled before the connection closes.
  const drains = new AbortController();
  setMaxListeners(Infinity, drains.signal); // one per run drained
  const worker = await startWorkerProcess({ address: env.address, taskQueue });
  const app = await startApiProcess({ address: env.address, taskQueue, authEnv: auth.env }).catch(async (err) => {
    await worker.stop();
    await env.teardown();
    throw err;
  });
  const api = app.baseUrl;
  const serverPid = devServerPid(env.address);
  /** CPU per call of each process over a phase, as a cell (bench/support/cpu.ts). */
  const cpu = () => cpuPerCall(standardProcesses({ api: app.pid, serverPid, worker: worker.pid }));

  const viaApi = async (spec: Spec, keepAlive = true): Promise<string> => {
    const res = await fetch(`${api}/workflows`, {
      method: 'POST',
      headers: {
        ...auth.header('operator'),
        'content-type': 'application/json',
        ...(!keepAlive && { connection: 'close' }),
      },
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
  /** Waits for the runs to close, at most DRAIN_CAP_MS; false if they did not. */
  const drain = (ids: string[]): Promise<boolean> =>
    Promise.race([
      env.client.connection
        .withAbortSignal(drains.signal, () => Promise.all(ids.map((id) => env.client.workflow.getHandle(id).result())))
        .then(
          () => true,
          () => true,
        ),
      // Unreferenced: a drain that finished must not keep the process alive for the cap.
      sleep(DRAIN_CAP_MS, false, { ref: false }),
    ]);
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
      const used: Partial<Record<(typeof order)[number], string>> = {};
      for (const via of order) {
        await sleep(3000); // the previous phase's first workflow tasks
        const meter = cpu();
        paced[via] = await atRate(rate, seconds, () => (via === 'api' ? viaApi(SLEEPING) : direct(SLEEPING)));
        used[via] = meter(paced[via].latencies.length);
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
        used.api ?? '',
        used.direct ?? '',
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
          'CPU ms per start, API path',
          'CPU ms per start, direct',
          'load (1 min)',
          'errors',
        ],
        startRows,
      ),
    );

    if (keepAliveRate > 0) {
      // The same API path twice more, back to back: HTTP keep-alive (fetch's default) and a new connection per request.
      const rows: string[][] = [];
      for (const keepAlive of [true, false]) {
        await sleep(3000);
        const meter = cpu();
        const paced = await atRate(keepAliveRate, seconds, () => viaApi(SLEEPING, keepAlive));
        const used = meter(paced.latencies.length);
        const a = spread(paced.latencies);
        rows.push([keepAlive ? 'on' : 'off', ms(a.p50), ms(a.p95), used, loadAverage(), errorNote(paced.errors)]);
      }
      console.log(`\nHTTP keep-alive at ${keepAliveRate} starts/s through the API (${seconds} s each):`);
      console.log(table(['keep-alive', 'p50', 'p95', 'CPU ms per start', 'load (1 min)', 'errors'], rows));
    }

    // Closed runs to read beside the running ones: their answers are kept by the API once read.
    const closedRuns: string[] = [];
    for (let i = 0; i < CLOSED_RUNS; i++) closedRuns.push(await viaApi(THREE_STEPS));
    await drain(closedRuns);

    const getRows: string[][] = [];
    for (const rate of getRates) {
      await sleep(3000);
      const started: string[] = [];
      const statuses: Record<string, number> = {};
      const describes: number[] = [];
      const describeErrors: unknown[] = [];
      const closedReads: number[] = [];
      const closedErrors: unknown[] = [];
      const meter = cpu();
      const phaseStart = performance.now();
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
        const closedAt = performance.now();
        const closed = read(closedRuns[Math.floor(Math.random() * closedRuns.length)]!).then(
          () => void closedReads.push(performance.now() - closedAt),
          (err: unknown) => void closedErrors.push(err),
        );
        const status = await read(id);
        statuses[status] = (statuses[status] ?? 0) + 1;
        await Promise.all([floor, closed]);
      });
      const [starts, reads] = await Promise.all([starting, reading]);
      const load = loadAverage();
      const used = meter((performance.now() - phaseStart) / 100);
      const t0 = performance.now();
      const drained = await drain(started);
      const drainS = (performance.now() - t0) / 1000;
      const g = spread(reads.latencies);
      const d = spread(describes);
      const c = spread(closedReads);
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
        `${ms(c.p50)} / ${ms(c.p95)}`,
        ms(spread(starts.latencies).p95),
        used,
        drained ? `${fixed(drainS)} s` : `> ${DRAIN_CAP_MS / 1000} s`,
        load,
        [errorNote(starts.errors), errorNote(reads.errors), errorNote(describeErrors), errorNote(closedErrors)]
          .filter(Boolean)
          .join('; '),
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
          `GET of ${CLOSED_RUNS} closed runs p50 / p95`,
          'start p95',
          'CPU, % of a core',
          'all closed after',
          'load (1 min)',
          'errors',
        ],
        getRows,
      ),
    );
    console.log('\nDecisions one at a time and 200 at once: npx tsx bench/approval-resume.ts');
  } finally {
    drains.abort();
    await app.stop();
    await worker.stop();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
