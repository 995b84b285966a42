/**
 * The orchestrator's MCP server (/mcp on the API) beside the REST routes and the Temporal client
 * it wraps. Four processes, as `npm start` runs them: the dev server, the worker, the API (real
 * bearer auth from a static tokens file) and this load generator (the SDK's MCP client, fetch for
 * REST, its own Temporal client for the direct calls). Each row says the CPU each process spent
 * per call, from /proc (bench/support/cpu.ts). Asserts nothing.
 *
 * 1. Starts, one at a time and then `in-flight` at once: `start_run` over one long-lived MCP
 *    session, `POST /workflows` (the same registered spec by name) and the API's own start call
 *    made directly (startSpecRun from this process). The runs sleep 1 h: the start path alone.
 * 2. Start to result of a run of one no-op step (`test.echo`): `start_run` + `wait_for_run` over
 *    MCP; `POST /workflows` + `GET /workflows/:id/events` read until `run.finished` ends the
 *    stream (REST has no blocking read; this is its push way); `POST` + `GET /workflows/:id`
 *    every `poll-ms` (what wait_for_run does inside, at MCP_WAIT_POLL_MS); start + `result()`.
 * 3. Sessions: `sessions` new MCP sessions opened one after another (initialize + initialized,
 *    timed), held, then closed with DELETE, twice. Before, with them open and after, the API's
 *    RSS, its V8 heap after a full GC and its open sockets and timers (a preload in the API process
 *    answers SIGWINCH with `gc()` and writes what it sees). The API runs with MCP_MAX_SESSIONS =
 *    sessions + 5, so sessions that outlived their DELETE would make the second round's
 *    initializes fail (503); and a closed id must answer 404.
 *
 *   npx tsx bench/mcp-server.ts [starts=20] [results=10] [in-flight=10] [sessions=200] [poll-ms=1000]
 *   (or BENCH_STARTS, BENCH_RESULTS, BENCH_IN_FLIGHT, BENCH_SESSIONS, BENCH_POLL_MS;
 *   BENCH_MCP_WAIT_POLL_MS sets the API's MCP_WAIT_POLL_MS, default its own 1000)
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunDetail, StartRunResponse } from '../api/workflows/run-views';
import { runWorkflowId } from '../api/workflows/run-identity';
import { startSpecRun } from '../api/workflows/start-spec-run';
import { testAuth, type TestUser } from '../test/helpers/api-auth';
import { createTestEnv } from '../test/helpers/temporal';
import type { Spec } from '../workflows/contracts/spec';
import { startApiProcess } from './support/api-process';
import { cpuPerCall, devServerPid, standardProcesses } from './support/cpu';
import { openMcpSession, type McpSession } from './support/mcp-client';
import { bounded, errorNote } from './support/pacing';
import { fixed, loadAverage, machineLine, ms, ratio, spread, table } from './support/stats';
import { startWorkerProcess } from './support/worker-process';

/** Waits: the start path alone. */
const SLEEPING: Spec = { name: 'bench-mcp-sleep', steps: [{ id: 'wait', kind: 'sleep', duration: '1h' }] };
/** One no-op step (test/fixtures/test-activities.ts): start to result with as little work as a run has. */
const ECHO: Spec = { name: 'bench-mcp-echo', steps: [{ id: 'echo', kind: 'activity', activity: 'test.echo' }] };
/** Longer than any run here takes; a wait that reaches it is an error in the table. */
const WAIT_SECONDS = 60;
/** Between the start paths: the previous path's first workflow tasks. */
const SETTLE_MS = 2000;
/** Closed session ids asked again per round (each must answer 404). */
const CLOSED_PROBES = 5;
/** After the DELETEs: idle keep-alive connections close after 5 s (Node's server default; undici's 4 s). */
const KEEP_ALIVE_MS = 6000;
/**
 * Preloaded into the API process (with --expose-gc): on SIGWINCH, a full GC, then its memory and
 * open handles to BENCH_GC_PROBE_FILE. Nothing else in the API listens for SIGWINCH.
 */
const GC_PROBE = `data:text/javascript,${encodeURIComponent(
  'import { renameSync, writeFileSync } from "node:fs";' +
    'const file = process.env.BENCH_GC_PROBE_FILE;' +
    'process.on("SIGWINCH", () => { globalThis.gc();' +
    'const handles = {}; for (const h of process.getActiveResourcesInfo()) handles[h] = (handles[h] ?? 0) + 1;' +
    'writeFileSync(file + ".tmp", JSON.stringify({ at: Date.now(), memory: process.memoryUsage(), handles }));' +
    'renameSync(file + ".tmp", file); });',
)}`;

function argument(index: number, envName: string, fallback: number): number {
  const raw = process.argv[2 + index] ?? process.env[envName];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${envName} must be a positive whole number`);
  return value;
}

interface Measured {
  latencies: number[];
  errors: unknown[];
  /** Calls that succeeded per second of wall time. */
  perSecond: number;
}

/** `count` calls, at most `inFlight` at a time; each one's send → settle. */
async function measure(count: number, inFlight: number, call: () => Promise<unknown>): Promise<Measured> {
  const latencies: number[] = [];
  const errors: unknown[] = [];
  const t0 = performance.now();
  await bounded(
    Array.from({ length: count }, (_, i) => i),
    inFlight,
    async () => {
      const sent = performance.now();
      await call().then(
        () => void latencies.push(performance.now() - sent),
        (err: unknown) => void errors.push(err),
      );
    },
  );
  return { latencies, errors, perSecond: (latencies.length * 1000) / (performance.now() - t0) };
}

const mib = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} MiB` : 'n/a');

async function main(): Promise<void> {
  const starts = argument(0, 'BENCH_STARTS', 20);
  const results = argument(1, 'BENCH_RESULTS', 10);
  const inFlight = argument(2, 'BENCH_IN_FLIGHT', 10);
  const sessions = argument(3, 'BENCH_SESSIONS', 200);
  const pollMs = argument(4, 'BENCH_POLL_MS', 1000);
  console.log(machineLine());

  const env = await createTestEnv();
  const taskQueue = `bench-mcp-server-${randomUUID()}`;
  const auth = testAuth();
  const probeDir = mkdtempSync(path.join(os.tmpdir(), 'bench-mcp-probe-'));
  const probeFile = path.join(probeDir, 'gc.json');
  const worker = await startWorkerProcess({ address: env.address, taskQueue });
  const app = await startApiProcess({
    address: env.address,
    taskQueue,
    authEnv: auth.env,
    env: {
      BENCH_GC_PROBE_FILE: probeFile,
      MCP_MAX_SESSIONS: String(sessions + 5),
      ...(process.env.BENCH_MCP_WAIT_POLL_MS && { MCP_WAIT_POLL_MS: process.env.BENCH_MCP_WAIT_POLL_MS }),
    },
    nodeArgs: ['--expose-gc', '--import', GC_PROBE],
  }).catch(async (err) => {
    await worker.stop();
    await env.teardown();
    rmSync(probeDir, { recursive: true, force: true });
    throw err;
  });
  const api = app.baseUrl;
  const serverPid = devServerPid(env.address);
  /** CPU per call of each process over a phase, as a cell (bench/support/cpu.ts). */
  const cpu = () => cpuPerCall(standardProcesses({ api: app.pid, serverPid, worker: worker.pid }));
  /** The API process after a full GC: RSS, V8 heap used (MiB) and its open sockets and timers. */
  const afterGc = async (): Promise<{ rss: number; heap: number; sockets: number; timers: number }> => {
    const asked = Date.now();
    process.kill(app.pid, 'SIGWINCH');
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      if (!existsSync(probeFile)) continue;
      const seen = JSON.parse(readFileSync(probeFile, 'utf8')) as {
        at: number;
        memory: NodeJS.MemoryUsage;
        handles: Record<string, number>;
      };
      if (seen.at < asked) continue;
      return {
        rss: seen.memory.rss / 2 ** 20,
        heap: seen.memory.heapUsed / 2 ** 20,
        sockets: seen.handles.TCPSocketWrap ?? 0,
        timers: seen.handles.Timeout ?? 0,
      };
    }
    return { rss: NaN, heap: NaN, sockets: NaN, timers: NaN };
  };

  const rest = async (method: string, route: string, user: TestUser, body?: unknown): Promise<Response> =>
    fetch(`${api}${route}`, {
      method,
      headers: { ...auth.header(user), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const restStart = async (spec: Spec): Promise<string> => {
    const res = await rest('POST', '/workflows', 'operator', { specName: spec.name, inputs: {} });
    if (res.status !== 201) throw new Error(`POST /workflows answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as StartRunResponse).workflowId;
  };
  const directStart = async (spec: Spec) =>
    startSpecRun(env.client, taskQueue, {
      workflowId: runWorkflowId(spec.name, randomUUID()),
      input: { spec, inputs: {} },
      requestHash: 'bench',
      summary: `Spec ${spec.name}`,
    });
  /** GET /workflows/:id every pollMs (the first at once) until the run is no longer open. */
  const pollUntilClosed = async (id: string): Promise<string> => {
    for (;;) {
      const res = await rest('GET', `/workflows/${encodeURIComponent(id)}`, 'operator');
      if (res.status !== 200) throw new Error(`GET /workflows/:id answered ${res.status}: ${await res.text()}`);
      const { status } = (await res.json()) as RunDetail;
      if (status !== 'running' && status !== 'paused') return status;
      await sleep(pollMs);
    }
  };
  /** GET /workflows/:id/events read to its end; the status its run.finished event names. */
  const followEvents = async (id: string): Promise<string> => {
    const res = await rest('GET', `/workflows/${encodeURIComponent(id)}/events`, 'operator');
    if (res.status !== 200) throw new Error(`GET /workflows/:id/events answered ${res.status}: ${await res.text()}`);
    const text = await res.text(); // the stream ends after run.finished
    const finished = text.split('\n\n').find((block) => /^event: run\.finished$/m.test(block));
    const data = finished?.match(/^data: (.*)$/m)?.[1];
    if (data === undefined) throw new Error('the event stream ended without run.finished');
    return (JSON.parse(data) as { data: { status: string } }).data.status;
  };
  const mustComplete = (via: string, status: string) => {
    if (status !== 'completed') throw new Error(`${via}: the run ended ${status}`);
  };

  let session: McpSession | undefined;
  try {
    for (const spec of [SLEEPING, ECHO]) {
      const res = await rest('POST', '/specs', 'admin', spec);
      if (res.status !== 201) throw new Error(`POST /specs answered ${res.status}: ${await res.text()}`);
    }
    const mcp = await openMcpSession(api, auth.header('operator'));
    session = mcp;
    await mcp.call('list_specs', {}); // as a client would, before its first start
    const mcpStart = async (spec: Spec): Promise<string> =>
      (await mcp.call<StartRunResponse>('start_run', { specName: spec.name, inputs: {} })).workflowId;

    const startPaths = {
      'MCP start_run': () => mcpStart(SLEEPING),
      'REST POST /workflows': () => restStart(SLEEPING),
      direct: () => directStart(SLEEPING),
    };
    const resultPaths = {
      'MCP start_run + wait_for_run': async () => {
        const workflowId = await mcpStart(ECHO);
        const waited = await mcp.call<{ finished: boolean; run: RunDetail }>(
          'wait_for_run',
          { workflowId, timeoutSeconds: WAIT_SECONDS },
          (WAIT_SECONDS + 30) * 1000,
        );
        if (!waited.finished) throw new Error(`wait_for_run: not finished after ${WAIT_SECONDS} s`);
        mustComplete('wait_for_run', waited.run.status);
      },
      'REST POST + GET …/events': async () => mustComplete('events', await followEvents(await restStart(ECHO))),
      [`REST POST + GET every ${pollMs} ms`]: async () =>
        mustComplete('poll', await pollUntilClosed(await restStart(ECHO))),
      'direct start + result()': async () => void (await (await directStart(ECHO)).result()),
    };

    // Warm every path (JIT, connections, the API's first requests) before anything is timed.
    for (let i = 0; i < 3; i++) {
      for (const call of Object.values(startPaths)) await call();
      await mcp.call('get_run', { workflowId: await mcpStart(SLEEPING) });
    }
    for (const call of Object.values(resultPaths)) await call();

    /** One table: each path `count` times one at a time, then `inFlight` at once, the path order rotated per mode. */
    const phase = async (paths: Record<string, () => Promise<unknown>>, count: number, floor: string) => {
      const rows: string[][] = [];
      const names = Object.keys(paths);
      for (const [m, mode] of [1, inFlight].entries()) {
        const order = names.map((_, i) => names[(i + m) % names.length]!);
        const byPath: Record<string, { measured: Measured; used: string; load: string }> = {};
        for (const name of order) {
          await sleep(SETTLE_MS);
          const meter = cpu();
          const measured = await measure(count, mode, paths[name]!);
          byPath[name] = { measured, used: meter(Math.max(1, measured.latencies.length)), load: loadAverage() };
        }
        const base = spread(byPath[floor]!.measured.latencies);
        for (const name of names) {
          const { measured, used, load } = byPath[name]!;
          const s = spread(measured.latencies);
          rows.push([
            String(mode),
            name,
            String(s.n),
            ms(s.p50),
            ms(s.p95),
            name === floor ? '1' : ratio(s.p50, base.p50),
            name === floor ? '1' : ratio(s.p95, base.p95),
            fixed(measured.perSecond, 1),
            used,
            load,
            errorNote(measured.errors),
          ]);
        }
      }
      return table(
        [
          'in flight',
          'path',
          'n',
          'p50',
          'p95',
          'p50 / direct',
          'p95 / direct',
          'per s',
          'CPU ms per call (api / server / worker / bench)',
          'load (1 min)',
          'errors',
        ],
        rows,
      );
    };

    console.log(`\nStarts (runs sleep 1 h), ${starts} per path one at a time, then ${inFlight} in flight:`);
    console.log(await phase(startPaths, starts, 'direct'));

    console.log(
      `\nStart to result of a 1-step no-op run, ${results} per path one at a time, then ${inFlight} in flight ` +
        `(wait_for_run reads the run every MCP_WAIT_POLL_MS = ${process.env.BENCH_MCP_WAIT_POLL_MS ?? '1000 (default)'} ms):`,
    );
    console.log(await phase(resultPaths, results, 'direct start + result()'));

    const sessionRows: string[][] = [];
    // Phase 2's idle connections close first; round 2 starts from what round 1 ended with.
    await sleep(KEEP_ALIVE_MS);
    let before = await afterGc();
    for (const round of [1, 2]) {
      const open: McpSession[] = [];
      const connects: number[] = [];
      const errors: unknown[] = [];
      const meter = cpu();
      for (let i = 0; i < sessions; i++) {
        const t0 = performance.now();
        await openMcpSession(api, auth.header('viewer')).then(
          (s) => {
            connects.push(performance.now() - t0);
            open.push(s);
          },
          (err: unknown) => void errors.push(err),
        );
      }
      const used = meter(Math.max(1, open.length));
      await sleep(SETTLE_MS);
      const held = await afterGc();
      const deletes: number[] = [];
      await bounded(open, inFlight, async (s) => {
        const t0 = performance.now();
        await s.close().then(
          () => void deletes.push(performance.now() - t0),
          (err: unknown) => void errors.push(err),
        );
      });
      await sleep(KEEP_ALIVE_MS);
      const after = await afterGc();
      // A closed session must be gone from the server: asked again, 404.
      let gone = 0;
      for (const s of open.slice(0, CLOSED_PROBES)) {
        const res = await fetch(`${api}/mcp`, {
          method: 'POST',
          headers: {
            ...auth.header('viewer'),
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': s.sessionId,
            'mcp-protocol-version': '2025-06-18',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        await res.body?.cancel();
        if (res.status === 404) gone++;
      }
      const clientErrors = open.flatMap((s) => s.errors);
      const c = spread(connects);
      const d = spread(deletes);
      sessionRows.push([
        String(round),
        `${open.length} of ${sessions}`,
        `${ms(c.p50)} / ${ms(c.p95)}`,
        `${ms(d.p50)} / ${ms(d.p95)}`,
        used,
        `${mib(before.heap)} → ${mib(held.heap)} → ${mib(after.heap)}`,
        `${fixed(((held.heap - before.heap) * 1024) / Math.max(1, open.length), 0)} KiB`,
        `${mib(before.rss)} → ${mib(held.rss)} → ${mib(after.rss)}`,
        `${before.sockets} → ${held.sockets} → ${after.sockets}`,
        `${before.timers} → ${held.timers} → ${after.timers}`,
        `${gone} of ${Math.min(CLOSED_PROBES, open.length)}`,
        loadAverage(),
        [errorNote(errors), clientErrors.length ? `client: ${errorNote(clientErrors)}` : ''].filter(Boolean).join('; '),
      ]);
      before = after;
    }
    console.log(
      `\nSessions: ${sessions} opened one after another, held ${SETTLE_MS / 1000} s, closed with DELETE ` +
        `(${inFlight} at once), read ${KEEP_ALIVE_MS / 1000} s later; twice (MCP_MAX_SESSIONS = ${sessions + 5}):`,
    );
    console.log(
      table(
        [
          'round',
          'opened',
          'connect p50 / p95',
          'DELETE p50 / p95',
          'CPU ms per connect',
          'API heap after GC: before → open → closed',
          'heap per open session',
          'API RSS',
          'API sockets',
          'API timers',
          'closed ids answering 404',
          'load (1 min)',
          'errors',
        ],
        sessionRows,
      ),
    );
    if (mcp.errors.length) console.log(`\nlong-lived session: ${errorNote(mcp.errors)}`);
  } finally {
    await session?.close().catch(() => undefined);
    await app.stop();
    await worker.stop();
    await env.teardown();
    rmSync(probeDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
