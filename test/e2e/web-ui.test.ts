/**
 * What a person sees: a finished run opened in the Temporal Web UI (the dev server's own UI) in
 * headless Chromium (Debian's package, driven by playwright-core). Every step that schedules
 * something in Temporal (an activity or a timer) must show up by name in the history's timeline,
 * because the interpreter names those commands after the step path. A screenshot is kept in a
 * temp directory (its path is printed) for a person to look at.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium } from 'playwright-core';
import { ensureTemporalCli } from '../../temporal/cli';
import { startDevServer, type DevServer } from '../../temporal/dev-server';
import type { Spec } from '../../workflows/contracts/spec';
import { newJournal } from '../helpers/journal';
import { startOrchestrator, type Orchestrator } from '../helpers/orchestrator';
import { quietRuntime } from '../helpers/temporal';
import { ensureChromium } from '../setup/ensure-chromium';

/**
 * This machine's network is closed: without the flags that stop Chromium's own background
 * connections (updates, sync, QUIC probes) its start-up stalls on refused connections.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const UI_WAIT_MS = 20_000;

let server: DevServer;
let env: TestWorkflowEnvironment;
let orch: Orchestrator;
let chromiumPath: string;

before(async () => {
  chromiumPath = await ensureChromium();
  quietRuntime();
  server = await startDevServer({ cliPath: await ensureTemporalCli() });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
  orch = await startOrchestrator(env);
});

after(async () => {
  await orch?.stop();
  await env?.teardown();
  await server?.stop();
});

test('a finished run shows every step by name in the Web UI timeline', { timeout: 60_000 }, async () => {
  const journal = newJournal();
  const record = (id: string) => ({
    id,
    kind: 'activity' as const,
    activity: 'test.record',
    args: { journal, label: id },
  });
  const spec: Spec = {
    name: 'ui-timeline',
    steps: [
      {
        id: 'checks',
        kind: 'parallel',
        branches: [[record('fetch-sources')], [{ id: 'cool-down', kind: 'sleep', duration: '1s' }]],
      },
      record('publish-report'),
    ],
  };
  // `checks` (parallel) runs its branches in the workflow itself and records no event of its own.
  const namedInHistory = ['fetch-sources', 'cool-down', 'publish-report'];

  const handle = await orch.start(spec);
  await handle.result();
  const { runId } = await handle.describe();
  assert.ok(server.uiUrl, 'the dev server runs its Web UI');
  const url = `${server.uiUrl}/namespaces/${server.namespace}/workflows/${encodeURIComponent(handle.workflowId)}/${runId}/history`;

  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'web-ui-test-'));
  const profile = path.join(outDir, 'profile');
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1600 },
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(url);
    await page.getByText(handle.workflowId).first().waitFor({ timeout: UI_WAIT_MS });
    const timeline = page.locator('#event-history-timeline-graph');
    const missing: string[] = [];
    for (const stepId of namedInHistory) {
      // The UI draws the timeline after the history arrives: wait for each label rather than sleep.
      await timeline
        .getByText(stepId)
        .first()
        .waitFor({ timeout: UI_WAIT_MS })
        .catch(() => missing.push(stepId));
    }
    const screenshot = path.join(outDir, 'history.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`Web UI screenshot of ${url}: ${screenshot}`);
    assert.deepEqual(missing, [], `steps the timeline does not name (see ${screenshot})`);
    const shown = (await timeline.textContent()) ?? '';
    for (const stepId of namedInHistory) assert.ok(shown.includes(stepId), `the timeline names step "${stepId}"`);
  } finally {
    await browser.close();
    await fs.rm(profile, { recursive: true, force: true });
  }
});
