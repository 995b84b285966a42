/**
 * K `research` runs at once (N=10 researchers, M=3 synthesisers, no tools) against the stand-in
 * model server with a fixed 200 ms latency, started as the API starts them (startSpecRun), on a
 * real dev server and the real orchestrator worker in a process of its own. Prints throughput,
 * run latency, the ratio to the ideal, and the memory of the worker: its RSS (sampled every
 * 250 ms) at peak, when the runs end and after an idle period, with the V8 heaps of its main
 * thread and of the SDK's workflow thread (bench/support/heap-probe.ts). Asserts nothing.
 *
 * The ideal is the longer of one run's critical path (plan → researcher → synthesiser →
 * executive: 4 × 200 ms) and the model calls of all runs spread over the worker's activity
 * slots (K × calls per run × 200 ms / ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES).
 *
 *   npx tsx bench/scale.ts [runs=1000] [idle-seconds=30]   (or BENCH_SCALE_RUNS, BENCH_SCALE_IDLE_S)
 *
 * BENCH_HEAP_SNAPSHOTS=1 also writes heap snapshots of the worker (main and workflow threads)
 * when a tenth of the runs have completed and after the idle period, into BENCH_PROBE_DIR (a
 * temporary directory by default, kept); snapshots pause the worker, so its figures are not
 * comparable. ORCHESTRATOR_* variables in the environment reach the worker.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { startSpecRun } from '../api/workflows/start-spec-run';
import { createTestEnv, quietRuntime } from '../test/helpers/temporal';
import { standInEnv } from '../test/fixtures/llm/harness';
import { StandInModelServer } from '../test/fixtures/llm/model-server';
import { researchScript } from '../test/fixtures/llm/research-script';
import { loadOrchestratorWorkerConfig } from '../workers/orchestrator-config';
import { cpuMeter, devServerPid, processCpuMs } from './support/cpu';
import { bounded } from './support/pacing';
import { LATENCY_MS, M, N, researchSpec } from './support/research-shape';
import { fixed, loadAverage, machineLine, ms, spread, table } from './support/stats';
import { startWorkerProcess } from './support/worker-process';

/** Plan, researcher, synthesiser, executive: the model calls that follow one another. */
const SEQUENTIAL_CALLS = 4;
/** Starts in flight at once: the runs are all started within a few seconds, as a burst of API calls. */
const START_CONCURRENCY = 50;
const SAMPLE_MS = 250;
const RUN_DEADLINE_MS = 60 * 60_000;
const MiB = 2 ** 20;

function option(index: number, envName: string, fallback: number): number {
  const raw = process.argv[2 + index] ?? process.env[envName];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${envName} (argument ${index + 1}) must be a non-negative integer`);
  return value;
}

const SPEC = researchSpec('bench-scale-research');

/** VmRSS and VmHWM (the kernel's own peak) of `pid`, in bytes; NaN when unreadable. */
function rssOf(pid: number | undefined): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** Peak RSS of each process, sampled every SAMPLE_MS until stopped. */
function rssSampler(pids: Record<string, number | undefined>) {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const timer = setInterval(() => {
    for (const [name, pid] of Object.entries(pids)) peak[name] = Math.max(peak[name]!, rssOf(pid).rss || 0);
  }, SAMPLE_MS);
  return { peak, stop: () => clearInterval(timer) };
}

interface ThreadHeap {
  script: string;
  used: number;
  total: number;
  limit: number;
  peakUsed: number;
  peakTotal: number;
}

interface ProbeReading {
  main?: { now: NodeJS.MemoryUsage; peak: Record<string, number> };
  /** The SDK's workflow thread (the sandbox every workflow runs in). */
  workflows?: ThreadHeap;
}

function readProbe(dir: string): ProbeReading {
  const read = (f: string) => {
    try {
      return JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    } catch {
      return undefined;
    }
  };
  const threads = readdirSync(dir)
    .filter((f) => /^thread-\d+\.json$/.test(f))
    .map((f) => read(f) as ThreadHeap | undefined);
  return { main: read('main.json'), workflows: threads.find((t) => t?.script.includes('workflow-worker-thread')) };
}

const mib = (bytes: number | undefined) =>
  bytes === undefined || !Number.isFinite(bytes) ? 'n/a' : `${Math.round(bytes / MiB)} MiB`;

function heapCells(p: ProbeReading): string {
  const t = p.workflows;
  return (
    `main heap ${mib(p.main?.now.heapUsed)} used / ${mib(p.main?.now.heapTotal)}, external ${mib(p.main?.now.external)}; ` +
    `workflow thread heap ${mib(t?.used)} used / ${mib(t?.total)} (limit ${mib(t?.limit)})`
  );
}

async function snapshot(pid: number, dir: string, label: string): Promise<void> {
  writeFileSync(path.join(dir, 'label'), label);
  const started = performance.now();
  process.kill(pid, 'SIGWINCH');
  while (!existsSync(path.join(dir, `snapshot-${label}.done`))) await sleep(500);
  console.log(`heap snapshots "${label}" written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const runs = option(0, 'BENCH_SCALE_RUNS', 1000);
  const idleS = option(1, 'BENCH_SCALE_IDLE_S', 30);
  const snapshots = process.env.BENCH_HEAP_SNAPSHOTS === '1';
  const probeDir = process.env.BENCH_PROBE_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'bench-scale-probe-'));
  console.log(machineLine());

  quietRuntime();
  const env = await createTestEnv();
  const server = await StandInModelServer.start();
  server.latencyMs = LATENCY_MS;
  const script = researchScript();
  let modelCalls = 0;
  server.script = (e) => {
    modelCalls++;
    return script(e);
  };
  // The server keeps every exchange; with thousands of calls that is this process's memory, not the worker's.
  const trim = setInterval(() => (server.exchanges.length = 0), 5_000);

  const workerEnv = { ...standInEnv(server), BENCH_PROBE_DIR: probeDir };
  const config = loadOrchestratorWorkerConfig({ ...process.env, ...workerEnv });
  const taskQueue = `bench-scale-${randomUUID()}`;
  const worker = await startWorkerProcess({
    address: env.address,
    taskQueue,
    env: workerEnv,
    nodeArgs: ['--import', path.join(__dirname, 'support/heap-probe.ts')],
  });
  const serverPid = devServerPid(env.address);
  console.log(
    `${runs} research runs at once (N=${N}, M=${M}, no tools), stand-in latency ${LATENCY_MS} ms; worker: ` +
      `maxCachedWorkflows ${config.maxCachedWorkflows}, ${config.maxConcurrentWorkflowTaskExecutions} workflow tasks, ` +
      `${config.maxConcurrentActivityTaskExecutions} activities at once; idle period ${idleS} s` +
      (snapshots ? `; heap snapshots into ${probeDir}` : ''),
  );
  await sleep(1500); // a first probe reading
  const atStart = { rss: rssOf(worker.pid).rss, probe: readProbe(probeDir) };

  const loads = [loadAverage()];
  const sampler = rssSampler({ worker: worker.pid, server: serverPid });
  const cpu = cpuMeter({ worker: () => processCpuMs(worker.pid), server: () => processCpuMs(serverPid ?? -1) });
  const latencies: number[] = [];
  const failures: string[] = [];
  let completed = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  let snapshotTaken: Promise<void> | undefined;
  await bounded(
    Array.from({ length: runs }, (_, i) => i),
    START_CONCURRENCY,
    async (i) => {
      const sent = performance.now();
      let handle: WorkflowHandle;
      try {
        handle = await startSpecRun(env.client, taskQueue, {
          workflowId: `bench-scale-${i}-${randomUUID()}`,
          input: { spec: SPEC, inputs: {} },
          requestHash: 'bench',
          summary: `Spec ${SPEC.name}`,
        });
      } catch (err) {
        failures.push(`start: ${(err as Error).message}`);
        return;
      }
      pending.push(
        Promise.race([
          handle.result(),
          sleep(RUN_DEADLINE_MS, undefined, { ref: false }).then(() =>
            Promise.reject(new Error('not done within the deadline')),
          ),
        ]).then(
          () => {
            latencies.push(performance.now() - sent);
            completed++;
            if (snapshots && !snapshotTaken && completed >= Math.ceil(runs / 10))
              snapshotTaken = snapshot(worker.pid, probeDir, `${runs}-in-flight`);
          },
          (err: unknown) => void failures.push((err as Error).message),
        ),
      );
    },
  );
  const startedIn = performance.now() - t0;
  await Promise.all(pending);
  const wallMs = performance.now() - t0;
  await snapshotTaken;
  const used = cpu();
  sampler.stop();
  loads.push(loadAverage());
  const atEnd = { rss: rssOf(worker.pid).rss, probe: readProbe(probeDir) };
  await sleep(idleS * 1000);
  const afterIdle = { rss: rssOf(worker.pid).rss, hwm: rssOf(worker.pid).hwm, probe: readProbe(probeDir) };
  loads.push(loadAverage());
  // A heap snapshot collects garbage first: the RSS after it is what a GC in both threads gives back.
  const afterGc = snapshots ? (await snapshot(worker.pid, probeDir, `${runs}-idle`), rssOf(worker.pid).rss) : NaN;
  const serverRss = rssOf(serverPid);

  clearInterval(trim);
  await worker.stop();
  await server.close();
  await env.teardown();

  const callsPerRun = modelCalls / Math.max(1, completed);
  const critical = SEQUENTIAL_CALLS * LATENCY_MS;
  const ideal = Math.max(critical, (runs * callsPerRun * LATENCY_MS) / config.maxConcurrentActivityTaskExecutions);
  const s = spread(latencies);
  console.log(
    table(
      ['figure', 'value'],
      [
        ['runs completed / lost', `${completed} / ${runs - completed}`],
        ['all started after', ms(startedIn)],
        ['first start → last result', `${fixed(wallMs / 1000)} s`],
        ['runs/s', fixed(completed / (wallMs / 1000))],
        ['run latency p50 / p95', `${ms(s.p50)} / ${ms(s.p95)}`],
        ['model calls per run', fixed(callsPerRun)],
        ['ideal (max of critical path and calls / slots)', `${fixed(ideal / 1000)} s`],
        ['ratio to the ideal', `${fixed(wallMs / ideal, 2)}×`],
        ['worker RSS before the runs', mib(atStart.rss)],
        ['worker RSS peak (sampled / kernel VmHWM)', `${mib(sampler.peak.worker)} / ${mib(afterIdle.hwm)}`],
        ['worker RSS when the runs ended', mib(atEnd.rss)],
        [`worker RSS after ${idleS} s idle`, mib(afterIdle.rss)],
        ...(snapshots ? [['worker RSS after the idle snapshots (a full GC in each thread)', mib(afterGc)]] : []),
        ['worker heaps before the runs', heapCells(atStart.probe)],
        [
          'worker heap peaks',
          `main ${mib(atEnd.probe.main?.peak.heapUsed)} used, workflow thread ${mib(atEnd.probe.workflows?.peakUsed)} used / ${mib(atEnd.probe.workflows?.peakTotal)}`,
        ],
        ['worker heaps when the runs ended', heapCells(atEnd.probe)],
        [`worker heaps after ${idleS} s idle`, heapCells(afterIdle.probe)],
        ['dev-server RSS peak (sampled / VmHWM)', `${mib(sampler.peak.server)} / ${mib(serverRss.hwm)}`],
        ['worker / dev-server CPU per run', `${ms(used.worker! / runs)} / ${ms(used.server! / runs)}`],
        ['load average (1 min) before / end / after idle', loads.join(' / ')],
      ],
    ),
  );
  if (failures.length) console.log(`lost: ${failures.length}, first: ${failures[0]}`);
  if (snapshots) console.log(`snapshots kept in ${probeDir}`);
  else if (process.env.BENCH_PROBE_DIR === undefined) rmSync(probeDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
