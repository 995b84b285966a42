/** The models config a worker reads at start-up, the key ring, retry-after parsing, research shares. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadLlmConfig } from '../../activities/llm/config/load';
import { KeyRing } from '../../activities/llm/key-ring';
import { retryAfterMs } from '../../activities/llm/retry-after';
import { ConfigError } from '../../config/config-errors';
import { shares } from '../../workflows/orchestrations/research';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'examples/models.json');

function problemsOf(fn: () => unknown): { source: string; problems: Array<{ key: string; message: string }> } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return { source: err.source, problems: err.problems };
  }
  assert.fail('expected a ConfigError');
}

describe('models config', () => {
  test('examples/models.json: keys from the environment, several per variable; optional providers without keys are left out', () => {
    const { config, warnings } = loadLlmConfig({ LLM_MODELS_FILE: EXAMPLE, OPENAI_API_KEYS: 'sk-1, sk-2,,sk-3' }, ROOT);
    assert.deepEqual(config.providers.openai?.keys, ['sk-1', 'sk-2', 'sk-3']);
    assert.equal(config.providers.openai?.baseUrl, 'https://api.openai.com/v1');
    assert.equal(config.providers.anthropic?.disabled?.includes('ANTHROPIC_API_KEYS is not set'), true);
    assert.equal(warnings.length, 1);
    assert.ok(!warnings[0]?.includes('sk-'), 'no key in a warning');
    assert.deepEqual(config.models.default, {
      name: 'default',
      provider: 'openai',
      model: 'gpt-4o-mini',
      price: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
    });
  });

  test('${VAR:-default} lets the environment point the default model at another provider', () => {
    const { config } = loadLlmConfig(
      {
        LLM_MODELS_FILE: EXAMPLE,
        LLM_DEFAULT_PROVIDER: 'local',
        LLM_DEFAULT_MODEL: 'qwen2.5',
        LLM_DEFAULT_INPUT_PRICE: '0',
        LLM_DEFAULT_OUTPUT_PRICE: '0',
        LOCAL_LLM_BASE_URL: 'http://127.0.0.1:8080/v1',
      },
      ROOT,
    );
    assert.deepEqual(config.models.default, {
      name: 'default',
      provider: 'local',
      model: 'qwen2.5',
      price: { inputPerMTok: 0, outputPerMTok: 0 },
    });
    assert.equal(config.providers.local?.baseUrl, 'http://127.0.0.1:8080/v1');
    assert.deepEqual(config.providers.local?.keys, []);
  });

  test('every problem names the file and the key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'models-'));
    const file = path.join(dir, 'models.json');
    writeFileSync(
      file,
      JSON.stringify({
        providers: {
          a: { type: 'openai', apiKeyEnv: 'A_KEYS' },
          b: { type: 'gemini' },
          c: { type: 'anthropic', baseUrl: '${C_URL}' },
        },
        models: {
          m: { provider: 'a', model: 'x', price: { inputPerMTok: -1, outputPerMTok: 1 } },
          n: { provider: 'zz', model: 'y' },
        },
      }),
    );
    const expanded = problemsOf(() => loadLlmConfig({ LLM_MODELS_FILE: file }));
    assert.equal(expanded.source, file);
    assert.deepEqual(
      expanded.problems.map((p) => p.key),
      ['providers.c.baseUrl'],
    );
    const schema = problemsOf(() => loadLlmConfig({ LLM_MODELS_FILE: file, C_URL: 'http://127.0.0.1:1' }));
    assert.deepEqual(schema.problems.map((p) => p.key).sort(), ['models.m.price.inputPerMTok', 'providers.b.type']);

    writeFileSync(
      file,
      JSON.stringify({
        providers: { a: { type: 'openai', apiKeyEnv: 'A_KEYS' } },
        models: { n: { provider: 'zz', model: 'y' } },
      }),
    );
    const semantic = problemsOf(() => loadLlmConfig({ LLM_MODELS_FILE: file }));
    assert.deepEqual(semantic.problems, [
      { key: 'providers.a.apiKeyEnv', message: 'A_KEYS is not set (one key, or several separated by commas)' },
      { key: 'models.n.provider', message: 'unknown provider "zz" (defined: a)' },
    ]);
    assert.deepEqual(
      problemsOf(() => loadLlmConfig({ LLM_MODELS_FILE: path.join(dir, 'nope.json') })).problems[0]?.key,
      'LLM_MODELS_FILE',
    );
    assert.deepEqual(
      problemsOf(() => loadLlmConfig({ LLM_MODELS_JSON: '{' })).source,
      'environment variable LLM_MODELS_JSON',
    );
  });

  test('no models config: the worker starts without models', () => {
    const { config } = loadLlmConfig({}, mkdtempSync(path.join(tmpdir(), 'empty-')));
    assert.deepEqual(config.models, {});
  });

  test('the worker refuses to start on a bad models config and names the key', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/orchestrator.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        LLM_MODELS_JSON: JSON.stringify({
          providers: { p: { type: 'openai', apiKeyEnv: 'UNSET_KEYS_FOR_TEST' } },
          models: {},
        }),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /orchestrator worker refused to start: invalid configuration in environment variable LLM_MODELS_JSON:\n {2}- providers\.p\.apiKeyEnv: UNSET_KEYS_FOR_TEST is not set/,
    );
  });
});

describe('key ring', () => {
  test('stays on a key until it is limited, skips limited keys, and says how long until one is free', () => {
    let now = 1000;
    const ring = new KeyRing(3, () => now);
    assert.equal(ring.pick(), 0);
    assert.equal(ring.pick(), 0);
    ring.limit(0, 5000);
    assert.equal(ring.pick(), 1);
    ring.limit(1, 3000);
    ring.limit(2, 4000);
    assert.equal(ring.pick(), undefined);
    assert.equal(ring.waitMs(), 2000);
    now = 3000;
    assert.equal(ring.pick(), 1);
    const other = new KeyRing(3, () => now);
    other.merge(ring.snapshot());
    assert.equal(other.pick(), 1);
  });
});

describe('retry-after', () => {
  test('retry-after-ms, seconds, an HTTP date, or the fallback', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '1500' }), now, 9), 1500);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' }), now, 9), 3000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now, 9), 5000);
    assert.equal(retryAfterMs(new Headers({}), now, 9), 9);
    assert.equal(retryAfterMs(undefined, now, 9), 9);
  });
});

describe('research shares', () => {
  test('M synthesisers get contiguous, near-equal shares of N findings', () => {
    assert.deepEqual(shares(5, 2), [
      [0, 1],
      [2, 3, 4],
    ]);
    assert.deepEqual(shares(10, 3), [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8, 9],
    ]);
    assert.deepEqual(shares(2, 2), [[0], [1]]);
  });
});
