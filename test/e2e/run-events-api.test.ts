/**
 * Run events over SSE through the REST API, end to end: a real Temporal dev server, the
 * orchestrator worker in this process (with the test activities and one that heartbeats progress
 * until told to stop), the Nest app with real static-token auth. The SSE client is the small one
 * below, over fetch, as a browser's EventSource would behave (Last-Event-ID on reconnect).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { compareRunEventIds, parseRunEventId } from '../../api/events/event-ids';
import { historyToRunEvents } from '../../api/events/history-events';
import { decodeSpecCursor } from '../../api/events/spec-cursor';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { RunEvent } from '../../workflows/contracts/run-events';
import { approveSignal } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { activities as testActivities } from '../fixtures/test-activities';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';

/** A bound on waits that would otherwise hang the suite (2 shared cores), not a timing assertion. */
const WAIT_MS = 60_000;

let env: TestWorkflowEnvironment;
let temporal: TemporalConfig;
let api: TestApp | undefined;
let baseUrl: string;
let worker: Worker;
let workerRun: Promise<void>;
let dir: string;
const auth = testAuth();

/**
 * Heartbeats `{ progress, total, message }` (the shape of an MCP tool's progress) until `flag`
 * exists, so the test decides when it ends: after it has seen a progress event, whatever the load.
 */
async function countUntilFlag(args: { flag: string }): Promise<{ beats: number }> {
  const ctx = Context.current();
  let beats = 0;
  while (!existsSync(args.flag)) {
    beats++;
    ctx.heartbeat({ progress: beats, total: 1000, message: `beat ${beats}` });
    await ctx.sleep(100);
  }
  return { beats };
}

interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** A small EventSource over fetch: events as they arrive, the status, the end of the stream. */
class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  retry?: number;
  status = 0;
  readonly done: Promise<void>;
  private readonly aborter = new AbortController();
  private readonly opened: Promise<void>;

  constructor(route: string, opts: { lastEventId?: string; user?: TestUser | null } = {}) {
    let markOpen: () => void = () => undefined;
    this.opened = new Promise((resolve) => (markOpen = resolve));
    this.done = (async () => {
      try {
        const res = await fetch(`${baseUrl}${route}`, {
          headers: {
            accept: 'text/event-stream',
            ...(opts.user === null ? {} : auth.header(opts.user ?? 'viewer')),
            ...(opts.lastEventId !== undefined && { 'last-event-id': opts.lastEventId }),
          },
          signal: this.aborter.signal,
        });
        this.status = res.status;
        markOpen();
        if (!res.body) return;
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            this.dispatch(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (err) {
        if (!this.aborter.signal.aborted) throw err;
      } finally {
        markOpen();
      }
    })();
  }

  private dispatch(block: string): void {
    const message: SseMessage = { data: '' };
    let hasData = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') message.id = value;
        else if (field === 'event') message.event = value;
        else if (field === 'retry') this.retry = Number(value);
        else if (field === 'data') {
          message.data += hasData ? `\n${value}` : value;
          hasData = true;
        }
      }
    }
    if (hasData) this.messages.push(message);
  }

  /** The run events received (data), each checked against its SSE id and event name. */
  get events(): RunEvent[] {
    return this.messages.map((m) => {
      const event = JSON.parse(m.data) as RunEvent;
      assert.equal(m.event, event.type);
      return event;
    });
  }

  async statusCode(): Promise<number> {
    await this.opened;
    return this.status;
  }

  /** Waits until an event matches (the stream's own pace; bounded so a broken run fails the test). */
  waitFor(what: string, match: (e: RunEvent) => boolean): Promise<RunEvent> {
    return waitFor(what, () => this.events.find(match), WAIT_MS);
  }

  close(): Promise<void> {
    this.aborter.abort();
    return this.done;
  }

  get lastId(): string | undefined {
    return this.messages.at(-1)?.id;
  }
}

async function http<T>(method: string, route: string, body?: unknown, user: TestUser = 'admin') {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...auth.header(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function startRun(spec: Spec, extra: Record<string, unknown> = {}): Promise<string> {
  const started = await http<{ workflowId: string }>('POST', '/workflows', { spec, runId: randomUUID(), ...extra });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  return started.body.workflowId;
}

async function approve(workflowId: string, stepId: string): Promise<void> {
  const reply = await http(
    'POST',
    `/workflows/${encodeURIComponent(workflowId)}/approvals/${stepId}`,
    { decision: 'approve' },
    'approver',
  );
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
}

const eventsRoute = (workflowId: string) => `/workflows/${encodeURIComponent(workflowId)}/events`;

/** The run's events as the final history says: every execution of its chain, rebuilt offline. */
async function rebuilt(workflowId: string): Promise<RunEvent[]> {
  const runs: Array<{ runId: string; history: Awaited<ReturnType<typeof fetchHistory>> }> = [];
  let handle = env.client.workflow.getHandle(workflowId);
  let runId = (await handle.describe()).runId;
  for (;;) {
    handle = env.client.workflow.getHandle(workflowId, runId);
    const history = await fetchHistory(workflowId, runId);
    runs.unshift({ runId, history });
    const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  return historyToRunEvents(workflowId, runs);
}

function fetchHistory(workflowId: string, runId: string) {
  return env.client.workflow.getHandle(workflowId, runId).fetchHistory();
}

const withoutProgress = (events: RunEvent[]) => events.filter((e) => e.type !== 'step.progress');
const brief = (events: RunEvent[]) => events.map((e) => `${e.type}${e.step === undefined ? '' : ` ${e.step}`}`);

function assertIncreasing(events: RunEvent[], what: string): void {
  for (let i = 1; i < events.length; i++) {
    const [a, b] = [parseRunEventId(events[i - 1]!.id), parseRunEventId(events[i]!.id)];
    assert.ok(a && b && compareRunEventIds(a, b) < 0, `${what}: ${events[i - 1]?.id} then ${events[i]?.id}`);
  }
}

before(async () => {
  env = await createTestEnv();
  temporal = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: `events-e2e-${randomUUID()}`,
  };
  worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: { ...loadOrchestratorWorkerConfig({}), shutdownGraceTimeMs: 2_000 },
    workflowBundle: await bundleWorkflowsOnce(),
    activities: { ...testActivities, 'test.countUntilFlag': countUntilFlag },
    identityEnv: auth.env,
  });
  workerRun = worker.run();
  api = await startTestApp({ temporal, auth: auth.auth, client: env.client });
  ({ baseUrl, dir } = api);
});

after(async () => {
  await api?.stop();
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

describe('GET /workflows/:id/events', () => {
  test('a client that disconnects mid-run and resumes with Last-Event-ID gets every event exactly once', async () => {
    const flag = path.join(dir, `flag-${randomUUID()}`);
    const spec: Spec = {
      name: 'events-demo',
      inputs: { flag: { type: 'string' } },
      steps: [
        { id: 'prep', kind: 'activity', activity: 'test.echo', args: { hello: 'world' } },
        {
          id: 'count',
          kind: 'activity',
          activity: 'test.countUntilFlag',
          args: { flag: '${inputs.flag}' },
          heartbeatTimeout: '5s',
        },
        { id: 'gate1', kind: 'approval', prompt: 'First gate?' },
        { id: 'gate2', kind: 'approval', prompt: 'Second gate?' },
        { id: 'done', kind: 'activity', activity: 'test.echo', args: { bye: true } },
      ],
    } as Spec;
    const workflowId = await startRun(spec, { inputs: { flag } });

    // A stays connected throughout; B comes and goes.
    const a = new SseClient(eventsRoute(workflowId));
    const b1 = new SseClient(eventsRoute(workflowId), { user: 'approver' });
    assert.equal(await a.statusCode(), 200);
    assert.equal(await b1.statusCode(), 200);
    const retry = await waitFor('the retry hint', () => a.retry, WAIT_MS);
    assert.equal(retry, 3000, 'the stream tells EventSource how soon to reconnect');

    // Progress from the heartbeats while `count` runs; the activity ends once it was seen.
    const progress = await a.waitFor('a progress event of count', (e) => e.type === 'step.progress');
    assert.equal(progress.step, 'count');
    assert.equal(progress.data.activity, 'spec.test.countUntilFlag');
    assert.equal((progress.data.progress as { total: number }).total, 1000);
    assert.match(String((progress.data.progress as { message: string }).message), /^beat \d+$/);
    assert.match(progress.id, /^0-\d+-1\d{3}$/, 'progress ids use n ≥ 1000');
    await writeFile(flag, 'stop');

    await b1.waitFor('gate1 requested', (e) => e.type === 'approval.requested' && e.step === 'gate1');
    await b1.close();
    const firstPart = b1.events;
    const resumeFrom = b1.lastId;
    assert.ok(resumeFrom);

    // While B is away: gate1 decided, gate2 requested.
    await approve(workflowId, 'gate1');
    await a.waitFor('gate2 requested', (e) => e.type === 'approval.requested' && e.step === 'gate2');

    const b2 = new SseClient(eventsRoute(workflowId), { lastEventId: resumeFrom, user: 'approver' });
    await b2.waitFor('gate2 requested after resuming', (e) => e.type === 'approval.requested' && e.step === 'gate2');
    assert.ok(
      !b2.events.some((e) => e.type === 'approval.requested' && e.step === 'gate1'),
      'what B had is not sent again',
    );
    await approve(workflowId, 'gate2');

    // Both streams end after run.finished.
    await Promise.all([a.done, b2.done]);
    assert.equal(a.events.at(-1)?.type, 'run.finished');
    assert.equal(b2.events.at(-1)?.type, 'run.finished');

    const final = await rebuilt(workflowId);
    const all = a.events;
    const resumed = [...firstPart, ...b2.events];
    assertIncreasing(all, 'A');
    assertIncreasing(resumed, 'B over both connections');
    assert.equal(new Set(resumed.map((e) => e.id)).size, resumed.length, 'B got nothing twice');
    // Everything but progress (a live snapshot) is the same for both, and what the history says.
    assert.deepEqual(withoutProgress(resumed), withoutProgress(all));
    assert.deepEqual(withoutProgress(all), final);
    assert.deepEqual(brief(final), [
      'run.started',
      'step.started prep',
      'step.finished prep',
      'step.started count',
      'step.finished count',
      'step.started gate1',
      'approval.requested gate1',
      'approval.decided gate1',
      'step.finished gate1',
      'step.started gate2',
      'approval.requested gate2',
      'approval.decided gate2',
      'step.finished gate2',
      'step.started done',
      'step.finished done',
      'run.finished',
    ]);
    const decided = final.find((e) => e.type === 'approval.decided' && e.step === 'gate1')!;
    assert.equal(decided.data.by, 'approver', 'the decider is the token');
    assert.equal(decided.data.channel, 'api');
    const requested = final.find((e) => e.type === 'approval.requested' && e.step === 'gate2')!;
    assert.equal(requested.data.prompt, 'Second gate?');

    // Reconnecting after the end: 204 (EventSource stops); from the start: the whole run, then the end.
    const again = new SseClient(eventsRoute(workflowId), { lastEventId: a.lastId });
    assert.equal(await again.statusCode(), 204);
    const replay = new SseClient(`${eventsRoute(workflowId)}?lastEventId=${final[4]!.id}`);
    await replay.done;
    assert.deepEqual(replay.events, final.slice(5), '?lastEventId= resumes as the header does');
  });

  test('approval events from the run memo: requested, escalated, a refused signal, decided', async () => {
    const workflowId = await startRun({
      name: 'events-escalation',
      steps: [
        {
          id: 'gate',
          kind: 'approval',
          prompt: 'Release?',
          approvers: ['release-managers'],
          timeout: '1s',
          escalate: { approvers: ['group:oncall'], timeout: '1h' },
        },
        { id: 'after', kind: 'activity', activity: 'test.echo', args: {} },
      ],
    } as Spec);
    const client = new SseClient(eventsRoute(workflowId));
    const escalated = await client.waitFor('the escalation', (e) => e.type === 'approval.escalated');
    assert.equal(escalated.step, 'gate');
    assert.ok((escalated.data.approvers as string[]).includes('group:oncall'), JSON.stringify(escalated.data));
    // A signal with a token nobody issued: the run refuses it and records why.
    await env.client.workflow
      .getHandle(workflowId)
      .signal(approveSignal, { stepId: 'gate', decision: 'approve', token: 'not-a-token' });
    const refused = await client.waitFor('the refusal', (e) => e.type === 'approval.refused');
    assert.equal(refused.step, 'gate');
    assert.equal(refused.data.channel, 'signal');
    assert.equal(typeof refused.data.reason, 'string');
    const decision = await http(
      'POST',
      `/workflows/${encodeURIComponent(workflowId)}/approvals/gate`,
      { decision: 'approve', comment: 'go' },
      'ana',
    );
    assert.equal(decision.status, 200, JSON.stringify(decision.body));
    await client.done;

    const events = client.events;
    assert.deepEqual(events, await rebuilt(workflowId));
    assert.deepEqual(brief(events), [
      'run.started',
      'step.started gate',
      'approval.requested gate',
      'approval.escalated gate',
      'approval.refused gate',
      'approval.decided gate',
      'step.finished gate',
      'step.started after',
      'step.finished after',
      'run.finished',
    ]);
    const requested = events[2]!;
    assert.equal(requested.data.prompt, 'Release?');
    assert.deepEqual(requested.data.approvers, ['release-managers']);
    const decided = events[5]!;
    assert.equal(decided.data.by, 'ana');
    assert.deepEqual(decided.data.groups, ['release-managers']);
    assert.equal(decided.data.comment, 'go');
    assert.equal(decided.data.timedOut, false);
  });

  test('a continued-as-new run streams across its chain', async () => {
    const spec: Spec = {
      name: 'events-chain',
      steps: [
        { id: 'one', kind: 'activity', activity: 'test.echo', args: { n: 1 } },
        { id: 'wait', kind: 'approval', prompt: 'Go on?' },
        { id: 'two', kind: 'activity', activity: 'test.echo', args: { n: 2 } },
        { id: 'three', kind: 'activity', activity: 'test.echo', args: { n: 3 } },
      ],
    } as Spec;
    const workflowId = await startRun(spec, { options: { continueAsNewAfterSteps: 1 } });
    // Connect while the second execution waits for the approval: the first is rebuilt, the rest followed.
    const client = new SseClient(eventsRoute(workflowId));
    await client.waitFor('the approval', (e) => e.type === 'approval.requested');
    assert.ok(client.events.some((e) => e.step === 'one' && e.type === 'step.finished'));
    await approve(workflowId, 'wait');
    await client.done;

    const events = client.events;
    assertIncreasing(events, 'chain');
    assert.deepEqual(events, await rebuilt(workflowId));
    assert.deepEqual(
      [...new Set(events.map((e) => e.id.split('-')[0]))],
      ['0', '1', '2', '3'],
      'four executions, numbered in order',
    );
    assert.equal(events.filter((e) => e.type === 'run.finished').length, 1);
    assert.equal(events.at(-1)?.type, 'run.finished');
    assert.equal(events.at(-1)?.data.status, 'completed');
    assert.equal(events.filter((e) => e.type === 'run.started').length, 1);
  });

  test('a terminated run: the waiting step is cancelled, run.finished says terminated, the stream ends', async () => {
    const workflowId = await startRun({
      name: 'events-terminated',
      steps: [{ id: 'wait', kind: 'approval', prompt: 'Never answered' }],
    } as Spec);
    const client = new SseClient(eventsRoute(workflowId));
    await client.waitFor('the approval', (e) => e.type === 'approval.requested');
    const stopped = await http('POST', `/workflows/${encodeURIComponent(workflowId)}/terminate`, {
      reason: 'test over',
    });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    await client.done;
    const events = client.events;
    assert.deepEqual(brief(events).slice(-2), ['step.failed wait', 'run.finished']);
    assert.equal(events.at(-2)?.data.status, 'cancelled');
    assert.equal(events.at(-1)?.data.status, 'terminated');
    assert.match(String(events.at(-1)?.data.error), /test over/);
    assert.deepEqual(events, await rebuilt(workflowId));
  });

  test('a client that does not read does not hold the run up', async () => {
    const workflowId = await startRun({
      name: 'events-unread',
      steps: [{ id: 'only', kind: 'activity', activity: 'test.echo', args: {} }],
    } as Spec);
    const res = await fetch(`${baseUrl}${eventsRoute(workflowId)}`, { headers: auth.header('viewer') });
    assert.equal(res.status, 200);
    const result = await env.client.workflow.getHandle(workflowId).result();
    assert.ok(result);
    await res.body?.cancel();
  });

  test('unknown runs are 404, bad resume points 400, no token 401; the document describes the routes', async () => {
    const missing = new SseClient(eventsRoute(`nope-${randomUUID()}`));
    assert.equal(await missing.statusCode(), 404);
    const workflowId = await startRun({
      name: 'events-errors',
      steps: [{ id: 'only', kind: 'activity', activity: 'test.echo', args: {} }],
    } as Spec);
    for (const bad of ['abc', '1-2', '0-1-x', '-1-2-3']) {
      const res = await fetch(`${baseUrl}${eventsRoute(workflowId)}`, {
        headers: { ...auth.header('viewer'), 'last-event-id': bad },
      });
      assert.equal(res.status, 400, bad);
      const body = (await res.json()) as { issues: Array<{ path: string }> };
      assert.deepEqual(
        body.issues.map((i) => i.path),
        ['Last-Event-ID'],
      );
    }
    const badQuery = await http<{ issues: Array<{ path: string }> }>(
      'GET',
      `${eventsRoute(workflowId)}?lastEventId=zzz`,
    );
    assert.equal(badQuery.status, 400);
    assert.deepEqual(
      badQuery.body.issues.map((i) => i.path),
      ['lastEventId'],
    );
    const unknownParam = await http('GET', `${eventsRoute(workflowId)}?since=1`);
    assert.equal(unknownParam.status, 400);
    const noToken = new SseClient(eventsRoute(workflowId), { user: null });
    assert.equal(await noToken.statusCode(), 401);

    const badSpec = await http('GET', '/events?spec=Not%20A%20Name');
    assert.equal(badSpec.status, 400);
    const noSpec = await http('GET', '/events');
    assert.equal(noSpec.status, 400);
    const badCursor = await fetch(`${baseUrl}/events?spec=events-errors`, {
      headers: { ...auth.header('viewer'), 'last-event-id': 'c1.not-json' },
    });
    assert.equal(badCursor.status, 400);

    const doc = await http<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
      'GET',
      '/docs-json',
    );
    const run = doc.body.paths['/workflows/{id}/events']?.get;
    assert.ok(run?.responses['200'] && run.responses['204'] && run.responses['400'] && run.responses['404']);
    assert.ok(JSON.stringify(run.responses['200']).includes('text/event-stream'));
    assert.ok(doc.body.paths['/events']?.get?.responses['200']);
  });
});

describe('GET /events?spec=', () => {
  test('follows every run of a spec; a resumed cursor misses nothing and repeats nothing', async () => {
    const spec: Spec = {
      name: `events-spec-${randomUUID().slice(0, 8)}`,
      steps: [
        { id: 'first', kind: 'activity', activity: 'test.echo', args: {} },
        { id: 'gate', kind: 'approval', prompt: 'Ok?' },
        { id: 'last', kind: 'activity', activity: 'test.echo', args: {} },
      ],
    } as Spec;
    const s1 = new SseClient(`/events?spec=${spec.name}`);
    assert.equal(await s1.statusCode(), 200);
    const runA = await startRun(spec);
    const runB = await startRun(spec);
    for (const run of [runA, runB]) {
      await s1.waitFor(`${run} waits`, (e) => e.workflowId === run && e.type === 'approval.requested');
    }
    await s1.close();
    const cursor = s1.lastId;
    assert.ok(cursor && decodeSpecCursor(cursor), `${cursor} is a cursor`);

    // While the client is away: A finishes; then it resumes and B finishes while it watches.
    await approve(runA, 'gate');
    await env.client.workflow.getHandle(runA).result();
    const s2 = new SseClient(`/events?spec=${spec.name}`, { lastEventId: cursor });
    await s2.waitFor('A finished', (e) => e.workflowId === runA && e.type === 'run.finished');
    await approve(runB, 'gate');
    await s2.waitFor('B finished', (e) => e.workflowId === runB && e.type === 'run.finished');
    await s2.close();

    const received = withoutProgress([...s1.events, ...s2.events]);
    for (const run of [runA, runB]) {
      const mine = received.filter((e) => e.workflowId === run);
      assertIncreasing(mine, run);
      // Both runs started after the stream did: every one of their events, once.
      assert.deepEqual(mine, await rebuilt(run));
    }
    assert.equal(received.filter((e) => e.workflowId !== runA && e.workflowId !== runB).length, 0);
  });
});
