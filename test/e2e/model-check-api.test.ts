/**
 * POST /workflows checks the model names of a spec against the models config the workers share:
 * a name no worker has is a 400 naming the step, before any run exists. Example specs whose models
 * are missing are named in the API's log at start-up. No worker runs here: accepted runs just wait.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication, LoggerService } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { LlmConfig } from '../../activities/llm/config/types';
import { createApp } from '../../api/app';
import type { TemporalConfig } from '../../temporal/config';
import { createTestEnv } from '../helpers/temporal';
import { testAuth } from '../helpers/api-auth';

const auth = testAuth();

const llm: LlmConfig = {
  source: '/srv/models.json',
  providers: {
    local: { name: 'local', type: 'openai', keys: [], keyEnv: [], headers: {}, maxTokensParam: 'max_tokens' },
  },
  models: {
    default: { name: 'default', provider: 'local', model: 'llama', price: { inputPerMTok: 0, outputPerMTok: 0 } },
  },
};

let env: TestWorkflowEnvironment;
let app: INestApplication;
let baseUrl: string;
const dirs: string[] = [];
const warnings: string[] = [];
const logger: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: (message: unknown) => void warnings.push(String(message)),
};

before(async () => {
  env = await createTestEnv();
  const temporal: TemporalConfig = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: 'model-check-nobody-polls',
  };
  const specStoreDir = await mkdtemp(path.join(tmpdir(), 'model-check-specs-'));
  const examplesDir = await mkdtemp(path.join(tmpdir(), 'model-check-examples-'));
  const webhookStoreDir = await mkdtemp(path.join(tmpdir(), 'model-check-webhooks-'));
  dirs.push(specStoreDir, examplesDir, webhookStoreDir);
  await writeFile(
    path.join(examplesDir, 'needs-gpt.spec.yaml'),
    'name: needs-gpt\nsteps:\n  - { id: ask, kind: llm, model: gpt, prompt: hi }\n',
  );
  app = await createApp({
    temporal,
    auth: auth.auth,
    client: env.client,
    specStoreDir,
    webhookStoreDir,
    examplesDir,
    port: 0,
    logger,
    llm,
  });
  baseUrl = await app.getUrl();
});

after(async () => {
  await app?.close();
  await env?.teardown();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function start(
  body: unknown,
): Promise<{ status: number; body: { issues?: Array<{ path: string; message: string }> } }> {
  const res = await fetch(`${baseUrl}/workflows`, {
    method: 'POST',
    headers: { ...auth.header('operator'), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { issues?: Array<{ path: string; message: string }> } };
}

test('an inline spec naming a model no worker has is a 400 naming the step and the model', async () => {
  const res = await start({
    spec: {
      name: 'typo',
      steps: [
        { id: 'both', kind: 'parallel', branches: [[{ id: 'ask', kind: 'llm', model: 'defualt', prompt: 'hi' }]] },
      ],
    },
  });
  assert.equal(res.status, 400);
  assert.deepEqual(res.body.issues, [
    {
      path: 'spec.steps[0].branches[0][0].model',
      message: 'step "ask" names model "defualt": no such model in /srv/models.json (defined: default)',
    },
  ]);
});

test('a model chosen by an input is checked against the value given; a known model starts', async () => {
  const spec = {
    name: 'chosen',
    inputs: { model: { type: 'string', default: 'default' } },
    steps: [{ id: 'ask', kind: 'llm', model: '${inputs.model}', prompt: 'hi' }],
  };
  const bad = await start({ spec, inputs: { model: 'huge' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.issues?.[0]?.message ?? '', /step "ask" names model "huge"/);
  assert.equal((await start({ spec })).status, 201);
});

test('a registered spec is refused by name, and the start-up log named it already', async () => {
  const res = await start({ specName: 'needs-gpt' });
  assert.equal(res.status, 400);
  assert.equal(res.body.issues?.[0]?.path, 'specName');
  assert.match(res.body.issues?.[0]?.message ?? '', /spec\.steps\[0\]\.model: step "ask" names model "gpt"/);
  assert.ok(
    warnings.some((w) => /example "needs-gpt" cannot run until its model is configured/.test(w)),
    warnings.join('\n'),
  );
});
