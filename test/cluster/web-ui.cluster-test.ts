/**
 * Cluster only: the Web UI server beside the cluster (TEMPORAL_TEST_UI_URL, set by
 * test/cluster/run.ts) serves the UI and answers its API from the cluster, visibility included.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RUN_SPEC_WORKFLOW } from '../../workflows/contracts/run';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';

const uiUrl = process.env.TEMPORAL_TEST_UI_URL;
let env: TestWorkflowEnvironment;

before(async () => {
  assert.ok(uiUrl, 'TEMPORAL_TEST_UI_URL: run through `npm run test:cluster`');
  env = await createTestEnv();
});

after(async () => {
  await env?.teardown();
});

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return (await res.json()) as T;
}

test('the Web UI serves its page and lists the namespaces and runs of the cluster', async () => {
  const page = await fetch(`${uiUrl}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html/i);

  const { namespaces } = await getJson<{ namespaces: { namespaceInfo: { name: string } }[] }>(
    `${uiUrl}/api/v1/namespaces`,
  );
  const names = namespaces.map((n) => n.namespaceInfo.name);
  assert.ok(names.includes('default'), `"default" among ${names.join(', ')}`);
  assert.ok(names.includes(env.namespace!), `this test's namespace among ${names.join(', ')}`);

  // A run nobody works on stays open: the UI finds it through SQL visibility.
  const workflowId = `ui-${randomUUID()}`;
  const handle = await env.client.workflow.start(RUN_SPEC_WORKFLOW, {
    taskQueue: `no-worker-${randomUUID()}`,
    workflowId,
    args: [{ spec: { name: 'ui', steps: [{ id: 'e', kind: 'activity', activity: 'test.echo' }] } }],
  });
  try {
    const query = encodeURIComponent(`WorkflowId = "${workflowId}"`);
    const listed = await waitFor('the run in the UI list', async () => {
      const { executions } = await getJson<{ executions?: { execution: { workflowId: string } }[] }>(
        `${uiUrl}/api/v1/namespaces/${env.namespace}/workflows?query=${query}`,
      );
      return executions?.length ? executions : undefined;
    });
    assert.deepEqual(
      listed.map((e) => e.execution.workflowId),
      [workflowId],
    );
  } finally {
    await handle.terminate('test done');
  }
});
