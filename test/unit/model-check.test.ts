import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LlmConfig } from '../../activities/llm/config/types';
import { modelIssues } from '../../api/workflows/model-check';
import { describeModels } from '../../workers/describe-models';
import type { Spec } from '../../workflows/contracts/spec';

const price = { inputPerMTok: 0, outputPerMTok: 0 };
const llm: LlmConfig = {
  source: '/srv/models.json',
  providers: {
    local: { name: 'local', type: 'openai', keys: [], keyEnv: [], headers: {}, maxTokensParam: 'max_tokens' },
    openai: {
      name: 'openai',
      type: 'openai',
      keys: [],
      keyEnv: ['OPENAI_API_KEYS'],
      headers: {},
      maxTokensParam: 'max_tokens',
      disabled: 'provider "openai" is not configured: OPENAI_API_KEYS is not set',
    },
  },
  models: {
    default: { name: 'default', provider: 'local', model: 'llama', price },
    gpt: { name: 'gpt', provider: 'openai', model: 'gpt-4o-mini', price },
  },
};

const spec: Spec = {
  name: 'models',
  inputs: { model: { type: 'string', default: 'default' } },
  steps: [
    { id: 'ask', kind: 'llm', model: 'default', prompt: 'hi' },
    {
      id: 'both',
      kind: 'parallel',
      branches: [
        [{ id: 'typo', kind: 'llm', model: 'defualt', prompt: 'hi' }],
        [{ id: 'fromInput', kind: 'agent', model: '${inputs.model}', prompt: 'hi' }],
      ],
    },
    { id: 'research', kind: 'research', question: 'q', model: 'default', models: { executive: 'gpt' } },
    { id: 'late', kind: 'llm', model: '${steps.ask.output}', prompt: 'hi' },
  ],
} as Spec;

test('unknown and unavailable models are named by step and field; run-time names are left to the run', () => {
  const issues = modelIssues(spec, { model: 'nope' }, {}, llm);
  assert.deepEqual(issues, [
    {
      path: 'spec.steps[1].branches[0][0].model',
      message: 'step "typo" names model "defualt": no such model in /srv/models.json (defined: default, gpt)',
    },
    {
      path: 'spec.steps[1].branches[1][0].model',
      message: 'step "fromInput" names model "nope": no such model in /srv/models.json (defined: default, gpt)',
    },
    {
      path: 'spec.steps[2].model',
      message: 'step "research" names model "gpt": provider "openai" is not configured: OPENAI_API_KEYS is not set',
    },
  ]);
  assert.equal(modelIssues(spec, { model: 'default' }, {}, llm).length, 2);
});

test('with no models configured the message says how to configure them', () => {
  const [first] = modelIssues(spec, { model: 'default' }, {}, { source: 'none', providers: {}, models: {} });
  assert.match(
    first?.message ?? '',
    /step "ask" names model "default": no models are configured \(set LLM_MODELS_FILE; see the README/,
  );
});

test('the worker says at start-up which models it has, or that it has none and what that means', () => {
  assert.equal(
    describeModels(llm),
    'models from /srv/models.json: default (local llama), gpt (openai gpt-4o-mini, unavailable: no API key)',
  );
  assert.match(describeModels(undefined), /^no models configured .* see the README, "Models, agents/);
});
