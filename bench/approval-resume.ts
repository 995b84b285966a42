/**
 * Decision → run resumed, with N runs waiting at an approval at once: through the REST API
 * (POST /workflows/:id/approvals/:stepId with a bearer token, which sends the `approve` update),
 * through that update sent from the Temporal client directly (the floor under the API), and
 * through the `approve` signal (checked by the worker's verifyDecisionToken activity against the
 * same static tokens file). "Resumed"
 * is the moment the run scheduled the step after the approval (its ActivityTaskScheduled event;
 * server and client share this machine's clock). Each channel is measured twice: one decision
 * at a time while the other runs keep waiting, then all the remaining decisions sent at once.
 * Prints p50/p95 and the CPU each process spent per decision (from /proc): the API runs as
 * `npm run api` does (api/main.ts, its own process and Temporal connection); the worker and the
 * direct client share this process; the dev server is the third. Asserts nothing.
 *
 *   npx tsx bench/approval-resume.ts [runs-waiting=200] [one-at-a-time=20]
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { testAuth } from '../test/helpers/api-auth';
import { bundleWorkflowsOnce, createTestEnv } from '../test/helpers/temporal';
import { loadOrchestratorWorkerConfig } from '../workers/orchestrator-config';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import type { runSpec } from '../workflows/interpreter';
import { approveSignal, approveUpdate, progressQuery, RUN_SPEC_WORKFLOW } from '../workflows/contracts/run';
import { type Spec } from '../workflows/contracts/spec';
import { startApiProcess } from './support/api-process';
import { cpuPerCall, devServerPid, ownCpuMs, processCpuMs } from './support/cpu';

type Handle = WorkflowHandle<typeof runSpec>;
type Channel = 'api' | 'update' | 'signal';
const spec: Spec = {
  name: 'bench-approval-resume',
  steps: [
    { id: 'gate', kind: 'approval', approvers: ['release-managers'], timeout: '1h' },
    { id: 'after', kind: 'activity', activity: 'benchNoop' },
  ],
};

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function eventMs(e: temporal.api.history.v1.IHistoryEvent): number {
  const t = e.eventTime;
  const seconds = typeof t?.seconds === 'number' ? t.seconds : (t?.seconds?.toNumber() ?? 0);
  return seconds * 1000 + (t?.nanos ?? 0) / 1e6;
}

/** When the run scheduled the step after the approval. */
async function resumedAt(handle: Handle): Promise<number> {
  await handle.result();
  for (const e of (await handle.fetchHistory()).events ?? []) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'spec.benchNoop') return eventMs(e);
  }
  throw new Error(`${handle.workflowId} never scheduled the step after its approval`);
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function bounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function main(): Promise<void> {
  const waiting = Number(process.argv[2] ?? 200);
  const oneAtATime = Math.min(Number(process.argv[3] ?? 20), waiting);
  // ana: approver in release-managers, in a real static tokens file.
  const auth = testAuth();
  const token = auth.tokens.ana;
  const env = await createTestEnv();
  const taskQueue = `bench-approvals-${randomUUID()}`;
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: { address: env.address, namespace: 'default', uiUrl: '', taskQueue },
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
    activities: { benchNoop: async () => null },
    identityEnv: auth.env,
  });
  const running = worker.run();
  const app = await startApiProcess({ address: env.address, taskQueue, authEnv: auth.env }).catch(async (err) => {
    worker.shutdown();
    await running;
    await env.teardown();
    throw err;
  });
  const api = app.baseUrl;
  const serverPid = devServerPid(env.address);
  const cpu = () =>
    cpuPerCall({
      api: () => processCpuMs(app.pid),
      server: () => (serverPid === undefined ? NaN : processCpuMs(serverPid)),
      'worker+client': ownCpuMs,
    });

  const decide = async (channel: Channel, handle: Handle): Promise<unknown> => {
    if (channel === 'signal') return handle.signal(approveSignal, { stepId: 'gate', decision: 'approve', token });
    if (channel === 'update') {
      return handle.executeUpdate(approveUpdate, {
        args: [{ stepId: 'gate', decision: 'approve', by: 'ana', groups: ['release-managers'], channel: 'api' }],
      });
    }
    const res = await fetch(`${api}/workflows/${encodeURIComponent(handle.workflowId)}/approvals/gate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ decision: 'approve' }),
    });
    if (!res.ok) throw new Error(`the API answered ${res.status}: ${await res.text()}`);
    return res.json();
  };

  /** Starts `waiting` runs and returns once every one of them waits at its approval. */
  const startWaiting = async (): Promise<Handle[]> => {
    const handles: Handle[] = [];
    await bounded(
      Array.from({ length: waiting }, (_, i) => i),
      50,
      async () => {
        handles.push(
          await env.client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
            taskQueue,
            workflowId: `bench-approval-${randomUUID()}`,
            args: [{ spec }],
          }),
        );
      },
    );
    await bounded(handles, 20, async (h) => {
      while ((await h.query(progressQuery)).pendingApprovals.length === 0) await new Promise((r) => setTimeout(r, 50));
    });
    return handles;
  };

  const rows: string[] = [];
  try {
    for (const channel of ['api', 'update', 'signal'] as const) {
      const handles = await startWaiting();
      const load = os.loadavg()[0]!.toFixed(2);
      // One decision at a time, the others still waiting.
      const single: number[] = [];
      const singleCpu = cpu();
      for (const h of handles.slice(0, oneAtATime)) {
        const sent = Date.now();
        await decide(channel, h);
        single.push((await resumedAt(h)) - sent);
      }
      const singleUsed = singleCpu(oneAtATime);
      // The rest at once.
      const rest = handles.slice(oneAtATime);
      const burstCpu = cpu();
      const sentAt = new Map<Handle, number>();
      const burstStart = Date.now();
      await Promise.all(
        rest.map((h) => {
          sentAt.set(h, Date.now());
          return decide(channel, h);
        }),
      );
      // Up to the last answer: the reads of each run's history below are the bench's, not the decisions'.
      const burstUsed = burstCpu(rest.length);
      const resumed: number[] = [];
      const burst: number[] = [];
      await bounded(rest, 20, async (h) => {
        const at = await resumedAt(h);
        resumed.push(at);
        burst.push(at - sentAt.get(h)!);
      });
      const burstLoad = os.loadavg()[0]!.toFixed(2);
      const burstWall = Math.max(...resumed) - burstStart;
      const f = (v: number) => `${v.toFixed(0)} ms`;
      rows.push(
        `| ${channel.padEnd(6)} | ${waiting} | one at a time (${single.length}) | ${f(percentile(single, 50))} | ${f(percentile(single, 95))} | ${singleUsed} | ${load} |`,
        `| ${channel.padEnd(6)} | ${waiting} | all at once (${burst.length}) | ${f(percentile(burst, 50))} | ${f(percentile(burst, 95))} | ${burstUsed} | ${load} → ${burstLoad} (all resumed in ${f(burstWall)}) |`,
      );
    }
    console.log('| channel | runs waiting | decisions | p50 | p95 | CPU ms per decision | load avg (1 min) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const row of rows) console.log(row);
  } finally {
    await app.stop();
    worker.shutdown();
    await running;
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
