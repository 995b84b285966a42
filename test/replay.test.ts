/**
 * Replays every recorded history in test/histories (one test per execution, grouped by the
 * scenario that recorded it) against today's workflow code. A change to workflow code that alters
 * the commands it issues fails here: a run in flight would fail the same way, so the change needs
 * patched() — never a re-recording. Also checks that the corpus covers every step kind and every
 * example spec, that a deliberate change is caught, and that the same change behind patched()
 * replays. Histories come from `npm run record-histories` (test/histories/record.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker, type ReplayResult, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { STEP_KINDS } from '../workflows/steps';
import { bundleWorkflowsOnce } from './helpers/temporal';

const DIR = path.join(__dirname, 'histories');
const EXAMPLES = path.join(__dirname, '..', 'examples');
const workflowIds = JSON.parse(readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
  .sort();

interface Payload {
  metadata?: { encoding?: string };
  data?: string;
}
interface HistoryJson {
  events: Array<{
    workflowExecutionStartedEventAttributes?: {
      workflowType?: { name?: string };
      continuedExecutionRunId?: string;
      parentWorkflowExecution?: { workflowId?: string };
      input?: { payloads?: Payload[] };
    };
  }>;
}

const histories = new Map(files.map((f) => [f, JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as HistoryJson]));
const started = (file: string) => histories.get(file)?.events[0]?.workflowExecutionStartedEventAttributes;

/** The run's first argument, for JSON payloads (runSpec's RunInput). */
function inputOf(file: string): Record<string, unknown> | undefined {
  const p = started(file)?.input?.payloads?.[0];
  if (!p?.data || Buffer.from(p.metadata?.encoding ?? '', 'base64').toString() !== 'json/plain') return undefined;
  return JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as Record<string, unknown>;
}

/** How a test names an execution: its workflow type and id, and whether it is a continued run. */
function describeExecution(file: string): string {
  const s = started(file);
  const how = s?.continuedExecutionRunId ? ', continued as new' : s?.parentWorkflowExecution ? ', child' : '';
  return `${s?.workflowType?.name ?? '?'} ${workflowIds[file]}${how} (${file})`;
}

/** Step kinds anywhere in a spec (steps, branches, cases, nested steps, child specs). */
function kindsIn(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) kindsIn(v, into);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.kind === 'string' && typeof o.id === 'string') into.add(o.kind);
    for (const v of Object.values(o)) kindsIn(v, into);
  }
  return into;
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
let changedBundles: Promise<{ changed: WorkflowBundleWithSourceMap; patched: WorkflowBundleWithSourceMap }> | undefined;
/** The deliberate change (an extra timer before any step), bare and behind patched(). */
function bundlesWithChange() {
  changedBundles ??= (async () => ({
    changed: await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/changed-workflow'),
      logger: quietLogger,
    }),
    patched: await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/versioned-workflow-v2'),
      logger: quietLogger,
    }),
  }))();
  return changedBundles;
}

/** Every history through one replay worker (a worker per history costs about a second each). */
async function replayAll(workflowBundle: WorkflowBundleWithSourceMap): Promise<Map<string, ReplayResult>> {
  const results = new Map<string, ReplayResult>();
  const inputs = files.map((f) => ({
    workflowId: workflowIds[f] as string,
    history: historyFromJSON(histories.get(f)),
  }));
  let i = 0;
  // Results come in the order of the histories given.
  for await (const r of Worker.runReplayHistories({ workflowBundle }, inputs)) results.set(files[i++] as string, r);
  return results;
}

let corpusReplay: Promise<Map<string, ReplayResult>> | undefined;
const replayCorpus = () => (corpusReplay ??= bundleWorkflowsOnce().then(replayAll));

const byScenario = new Map<string, string[]>();
for (const f of files) {
  const scenario = f.replace(/\.json$/, '').split('.')[0] as string;
  byScenario.set(scenario, [...(byScenario.get(scenario) ?? []), f]);
}

describe('replay of recorded histories', () => {
  test('every history has its workflow id, and every id its history', () => {
    assert.deepEqual(files, Object.keys(workflowIds).sort());
  });

  for (const [scenario, list] of byScenario) {
    describe(scenario, () => {
      for (const file of list) {
        test(`${describeExecution(file)} replays against the current code`, async () => {
          const result = (await replayCorpus()).get(file);
          assert.ok(result, `no replay result for ${file}`);
          if (result.error) throw result.error;
        });
      }
    });
  }
});

describe('the corpus', () => {
  const runs = files.filter((f) => started(f)?.workflowType?.name === 'runSpec');

  test('covers every step kind', () => {
    const seen = new Set<string>();
    for (const f of runs) kindsIn(inputOf(f)?.spec, kindsIn(inputOf(f)?.childSpecs, seen));
    const missing = Object.keys(STEP_KINDS).filter((k) => !seen.has(k));
    assert.deepEqual(missing, [], 'record a scenario for each (test/histories/scenarios.ts)');
  });

  test('covers every example spec', () => {
    const names = new Set(runs.map((f) => (inputOf(f)?.spec as { name?: string } | undefined)?.name));
    const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.spec.yaml'));
    assert.ok(examples.length >= 5, `found ${examples.length} examples`);
    const missing = examples.filter((f) => !names.has(f.replace(/\.spec\.yaml$/, '')));
    assert.deepEqual(missing, [], 'record a scenario for each (test/histories/scenarios.ts)');
  });

  test('holds continued runs and child runs', () => {
    assert.ok(files.some((f) => started(f)?.continuedExecutionRunId));
    assert.ok(files.some((f) => started(f)?.parentWorkflowExecution));
  });
});

describe('a change to the interpreter', () => {
  const file = 'example-approval-release.json';

  test('is caught as non-determinism', async () => {
    const { changed } = await bundlesWithChange();
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: changed }, histories.get(file), workflowIds[file]),
      DeterminismViolationError,
    );
  });

  test('behind patched(), replays: every history of the corpus', async () => {
    const { patched } = await bundlesWithChange();
    const failed = [...(await replayAll(patched))]
      .filter(([, r]) => r.error)
      .map(([f, r]) => `${f}: ${r.error?.message}`);
    assert.deepEqual(failed, []);
  });
});
