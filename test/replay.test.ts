/**
 * Replays every recorded history in test/histories against today's workflow code. A change to
 * workflow code that alters the commands it issues fails here; such changes need patched().
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { bundleWorkflowsOnce } from './helpers/temporal';

const DIR = path.join(__dirname, 'histories');
const workflowIds = JSON.parse(readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const histories = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f in workflowIds)
  .sort();

function loadHistory(file: string): unknown {
  return JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
}

describe('replay of recorded histories', () => {
  test('there are recorded histories to replay', () => {
    assert.ok(histories.length >= 4, `found ${histories.length}`);
  });

  for (const file of histories) {
    test(`${file} replays against the current code`, async () => {
      await Worker.runReplayHistory(
        { workflowBundle: await bundleWorkflowsOnce() },
        loadHistory(file),
        workflowIds[file],
      );
    });
  }

  test('a deliberate change to the workflow is caught as non-determinism', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/changed-workflow'),
      logger: quietLogger,
    });
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowBundle: changed },
        loadHistory(histories[0] as string),
        workflowIds[histories[0] as string],
      ),
      DeterminismViolationError,
    );
  });
});

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
