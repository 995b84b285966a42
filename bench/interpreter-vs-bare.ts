/**
 * The interpreter against a bare, hand-written Temporal workflow doing the same work
 * (bench/workflows/bare.ts), both on ONE worker process (the real worker entry, run as a child)
 * with the same no-op activity and the same dev server, the runs interleaved (bare, interpreter,
 * interpreter, bare, …) so the machine's load falls on both alike. Interpreter runs are started
 * the way the API starts them (startSpecRun: memo, search attribute, summary). A third kind runs
 * the same specs with every step `local: true` (a local activity in the worker). Prints one
 * table with each kind's ratio to bare. Asserts nothing.
 *
 *   (a) 3 sequential no-op steps, one run at a time: start → result latency, p50/p95
 *   (b) 10 parallel branches of one no-op step each, one run at a time: p50/p95
 *   (c) 3-step runs started all at once: runs/s (first start → last result)
 *   (d) CPU per run during (c): the worker process and the dev server, from /proc
 *   (e) events and workflow tasks per run, from each run's history, and the event types that differ
 *   (f) the bare workflow in a bundle of its own, on a second worker process: what loading the
 *       product's workflow modules (their schemas, zod) costs every run of any workflow type
 *
 *   npx tsx bench/interpreter-vs-bare.ts [runs=40] [burst=200] [rounds=2]
 *   (or BENCH_RUNS, BENCH_BURST, BENCH_ROUNDS) — runs: per kind for (a) and (b) each; burst: runs
 *   per kind per round of (c); rounds alternate which kind goes first.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startSpecRun } from '../api/workflows/start-spec-run';
import { createTestEnv, quietRuntime } from '../test/helpers/temporal';
import { SPEC_ACTIVITY_PREFIX } from '../workflows/contracts/spec-activities';
import type { Spec } from '../workflows/contracts/spec';
import { cpuMeter, devServerPid, processCpuMs } from './support/cpu';
import { eventTypeDifferences, historyCost, type HistoryCost } from './support/history';
import { bounded } from './support/pacing';
import { fixed, loadAverage, machineLine, ms, ratio, spread, table } from './support/stats';
import { startWorkerProcess } from './support/worker-process';
import type { BareInput } from './workflows/bare';

/** The no-op spec activity (test/fixtures/test-activities.ts): returns its arguments. */
const ACTIVITY = 'test.echo';
const SEQUENTIAL_STEPS = 3;
const BRANCHES = 10;

/** `local`: the interpreter with every step `local: true` (a local activity in the worker). */
type Kind = 'bare' | 'interpreter' | 'local';
type Shape = 'sequential' | 'parallel';
const KINDS: readonly Kind[] = ['bare', 'interpreter', 'local'];
/** Each round starts with the next kind, so none always runs first. */
const rotated = (i: number): Kind[] => KINDS.map((_, j) => KINDS[(i + j) % KINDS.length] as Kind);

function option(index: number, envName: string, fallback: number): number {
  const raw = process.argv[2 + index] ?? process.env[envName];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${envName} (argument ${index + 1}) must be a positive integer`);
  return value;
}

const specs = (local: boolean): Record<Shape, Spec> => {
  const noopStep = (id: string): Spec['steps'][number] => ({
    id,
    kind: 'activity',
    activity: ACTIVITY,
    ...(local && { local }),
  });
  return {
    sequential: {
      name: 'bench-sequential',
      steps: Array.from({ length: SEQUENTIAL_STEPS }, (_, i) => noopStep(`s${i + 1}`)),
    },
    parallel: {
      name: 'bench-parallel',
      steps: [
        { id: 'fan', kind: 'parallel', branches: Array.from({ length: BRANCHES }, (_, i) => [noopStep(`b${i + 1}`)]) },
      ],
    },
  };
};
const SPECS: Record<Exclude<Kind, 'bare'>, Record<Shape, Spec>> = { interpreter: specs(false), local: specs(true) };

function starter(client: Client, taskQueue: string) {
  return (kind: Kind, shape: Shape): Promise<WorkflowHandle> => {
    const workflowId = `bench-${kind}-${shape}-${randomUUID()}`;
    if (kind !== 'bare') {
      const spec = SPECS[kind][shape];
      return startSpecRun(client, taskQueue, {
        workflowId,
        input: { spec, inputs: {} },
        requestHash: 'bench',
        summary: `Spec ${spec.name}`,
      });
    }
    const input: BareInput = {
      activity: `${SPEC_ACTIVITY_PREFIX}${ACTIVITY}`,
      count: shape === 'sequential' ? SEQUENTIAL_STEPS : BRANCHES,
    };
    return client.workflow.start(shape === 'sequential' ? 'bareSequential' : 'bareParallel', {
      taskQueue,
      workflowId,
      args: [input],
    });
  };
}

type PerKind<T> = Record<Kind, T>;
const perKind = <T>(make: () => T): PerKind<T> => ({ bare: make(), interpreter: make(), local: make() });

const costsOf = async (handles: WorkflowHandle[]): Promise<HistoryCost[]> => {
  const costs: HistoryCost[] = [];
  await bounded(handles, 10, async (h) => void costs.push(await historyCost(h)));
  return costs;
};
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const runs = option(0, 'BENCH_RUNS', 40);
  const burst = option(1, 'BENCH_BURST', 200);
  const rounds = option(2, 'BENCH_ROUNDS', 2);
  console.log(machineLine());
  console.log(
    `runs one at a time: ${runs} per kind and shape (after one warm-up each); burst: ${burst} per kind × ${rounds} rounds`,
  );

  quietRuntime();
  const env = await createTestEnv();
  const taskQueue = `bench-bare-${randomUUID()}`;
  const noop = () => undefined;
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'workflows', 'index.ts'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
  const worker = await startWorkerProcess({ address: env.address, taskQueue, bundleCode: bundle.code });
  const serverPid = devServerPid(env.address);
  if (serverPid === undefined) console.log('dev server process not found: its CPU shows as n/a');
  const start = starter(env.client, taskQueue);

  /** (a), (b): one run at a time, the kinds alternating (and which goes first, too). */
  const oneAtATime = async (shape: Shape) => {
    for (const kind of KINDS) await (await start(kind, shape)).result(); // warm-up
    const latencies = perKind<number[]>(() => []);
    const handles = perKind<WorkflowHandle[]>(() => []);
    for (let i = 0; i < runs; i++) {
      for (const kind of rotated(i)) {
        const t0 = performance.now();
        const handle = await start(kind, shape);
        await handle.result();
        latencies[kind].push(performance.now() - t0);
        handles[kind].push(handle);
      }
    }
    const costs = perKind<HistoryCost[]>(() => []);
    for (const kind of KINDS) costs[kind] = await costsOf(handles[kind]);
    return { latencies, costs };
  };

  /** (c), (d): `burst` 3-step runs started at once, CPU read around them. */
  const totals = perKind(() => ({ runs: 0, wallMs: 0, workerMs: 0, serverMs: 0, costs: [] as HistoryCost[] }));
  const burstOf = async (kind: Kind) => {
    await sleep(2000); // let the previous batch's tail (timers, visibility) settle
    const cpu = cpuMeter({
      worker: () => processCpuMs(worker.pid),
      server: () => (serverPid === undefined ? NaN : processCpuMs(serverPid)),
    });
    const t0 = performance.now();
    const handles = await Promise.all(Array.from({ length: burst }, () => start(kind, 'sequential')));
    await Promise.all(handles.map((h) => h.result()));
    const wallMs = performance.now() - t0;
    const used = cpu();
    const t = totals[kind];
    t.runs += burst;
    t.wallMs += wallMs;
    t.workerMs += used.worker!;
    t.serverMs += used.server!;
    t.costs.push(...(await costsOf(handles)));
  };

  /** (f): the bursts of (c) for the bare workflow alone, on a worker whose bundle holds nothing else. */
  const bareAlone = async () => {
    const aloneQueue = `${taskQueue}-alone`;
    const aloneBundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'workflows', 'bare.ts'),
      logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
    });
    const aloneWorker = await startWorkerProcess({
      address: env.address,
      taskQueue: aloneQueue,
      bundleCode: aloneBundle.code,
    });
    const startAlone = starter(env.client, aloneQueue);
    const result = { runs: 0, wallMs: 0, workerMs: 0 };
    try {
      await (await startAlone('bare', 'sequential')).result(); // warm-up
      for (let r = 0; r < rounds; r++) {
        await sleep(2000);
        const cpu = cpuMeter({ worker: () => processCpuMs(aloneWorker.pid) });
        const t0 = performance.now();
        const handles = await Promise.all(Array.from({ length: burst }, () => startAlone('bare', 'sequential')));
        await Promise.all(handles.map((h) => h.result()));
        result.wallMs += performance.now() - t0;
        result.workerMs += cpu().worker!;
        result.runs += burst;
      }
    } finally {
      await aloneWorker.stop();
    }
    return result;
  };

  try {
    const sequential = await oneAtATime('sequential');
    const parallel = await oneAtATime('parallel');
    for (let r = 0; r < rounds; r++) for (const kind of rotated(r)) await burstOf(kind);

    const row = (figure: string, value: (k: Kind) => number, show: (v: number) => string): string[] => [
      figure,
      show(value('bare')),
      show(value('interpreter')),
      ratio(value('interpreter'), value('bare')),
      show(value('local')),
      ratio(value('local'), value('bare')),
    ];
    const costRow = (figure: string, costs: PerKind<HistoryCost[]>, field: 'events' | 'workflowTasks') =>
      row(
        figure,
        (k) => mean(costs[k].map((c) => c[field])),
        (v) => fixed(v),
      );
    const burstCosts: PerKind<HistoryCost[]> = {
      bare: totals.bare.costs,
      interpreter: totals.interpreter.costs,
      local: totals.local.costs,
    };
    const rows = [
      row(`(a) ${SEQUENTIAL_STEPS} sequential steps, p50`, (k) => spread(sequential.latencies[k]).p50, ms),
      row(`(a) ${SEQUENTIAL_STEPS} sequential steps, p95`, (k) => spread(sequential.latencies[k]).p95, ms),
      row(`(b) ${BRANCHES} parallel branches, p50`, (k) => spread(parallel.latencies[k]).p50, ms),
      row(`(b) ${BRANCHES} parallel branches, p95`, (k) => spread(parallel.latencies[k]).p95, ms),
      row(
        `(c) runs/s, ${burst} ${SEQUENTIAL_STEPS}-step runs at once`,
        (k) => (totals[k].runs * 1000) / totals[k].wallMs,
        (v) => fixed(v),
      ),
      row('(d) worker CPU per run (c)', (k) => totals[k].workerMs / totals[k].runs, ms),
      row('(d) dev-server CPU per run (c)', (k) => totals[k].serverMs / totals[k].runs, ms),
      costRow(`(e) events per run, ${SEQUENTIAL_STEPS}-step`, sequential.costs, 'events'),
      costRow(`(e) events per run, ${BRANCHES}-branch`, parallel.costs, 'events'),
      costRow(`(e) workflow tasks per run, ${SEQUENTIAL_STEPS}-step`, sequential.costs, 'workflowTasks'),
      costRow(`(e) workflow tasks per run, ${SEQUENTIAL_STEPS}-step at once (c)`, burstCosts, 'workflowTasks'),
      costRow(`(e) workflow tasks per run, ${BRANCHES}-branch`, parallel.costs, 'workflowTasks'),
    ];
    console.log(table(['figure', 'bare', 'interpreter', 'interpreter / bare', 'local steps', 'local / bare'], rows));
    for (const [shape, costs] of [
      [`${SEQUENTIAL_STEPS}-step`, sequential.costs],
      [`${BRANCHES}-branch`, parallel.costs],
    ] as const) {
      for (const kind of ['interpreter', 'local'] as const) {
        const diff = eventTypeDifferences(costs.bare, costs[kind]);
        console.log(`(e) event types per ${shape} run, bare → ${kind}: ${diff.join('; ') || 'the same'}`);
      }
    }
    const alone = await bareAlone();
    console.log(
      `(f) bare workflow bundled alone, ${alone.runs} ${SEQUENTIAL_STEPS}-step runs at once: ` +
        `worker CPU ${ms(alone.workerMs / alone.runs)} per run (in the product's bundle: ${ms(totals.bare.workerMs / totals.bare.runs)}), ` +
        `${fixed((alone.runs * 1000) / alone.wallMs)} runs/s`,
    );
    console.log(`load avg (1 min) at the end: ${loadAverage()}`);
  } finally {
    await worker.stop();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
