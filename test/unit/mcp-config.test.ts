import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadMcpConfig } from '../../activities/mcp/config/load';
import type { HttpServerConfig, StdioServerConfig } from '../../activities/mcp/config/types';
import { ConfigError } from '../../config/config-errors';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';

function folderWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-config-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

/** Loads `dir` and expects a ConfigError from `file` holding a problem at `key` matching `message`. */
function expectProblem(
  dir: string,
  file: string,
  key: string,
  message: RegExp,
  env: Record<string, string> = {},
): void {
  assert.throws(
    () => loadMcpConfig({ location: dir, required: true }, env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      assert.equal(err.source, path.join(dir, file));
      const problem = err.problems.find((p) => p.key === key);
      assert.ok(problem, `no problem at ${key}; got ${JSON.stringify(err.problems)}`);
      assert.match(problem.message, message);
      assert.ok(
        err.message.includes(path.join(dir, file)) && err.message.includes(key),
        'the message names file and key',
      );
      return true;
    },
  );
}

test('stdio and HTTP entries in the usual mcpServers shape', () => {
  const dir = folderWith({
    '.mcp.json': {
      mcpServers: {
        files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', './data'], env: { A: '1' } },
        remote: { type: 'http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' } },
        legacy: { type: 'sse', url: 'http://127.0.0.1:3001/sse' },
        untyped: { url: 'http://127.0.0.1:3001/mcp' },
      },
    },
  });
  const config = loadMcpConfig({ location: dir, required: true }, {});
  const files = config.servers.files as StdioServerConfig;
  assert.equal(files.transport, 'stdio');
  assert.equal(files.command, 'npx', 'bare commands stay for the PATH lookup');
  assert.deepEqual(files.args, ['-y', '@modelcontextprotocol/server-filesystem', path.join(dir, 'data')]);
  assert.equal(files.cwd, dir, 'servers start in the config file folder');
  assert.deepEqual(files.env, { A: '1' });
  assert.equal((config.servers.remote as HttpServerConfig).transport, 'http');
  assert.deepEqual((config.servers.remote as HttpServerConfig).headers, { Authorization: 'Bearer x' });
  assert.equal(config.servers.legacy?.transport, 'sse');
  assert.equal(config.servers.untyped?.transport, 'http');
  assert.deepEqual(config.files, [path.join(dir, '.mcp.json')]);
});

test('${VAR}, ${VAR:-default} and ${WORKSPACE} expand; relative paths resolve against the file folder', () => {
  const dir = folderWith({});
  mkdirSync(path.join(dir, 'tools'));
  writeFileSync(
    path.join(dir, 'tools', '.mcp.json'),
    JSON.stringify({
      mcpServers: {
        local: {
          command: './bin/server',
          args: ['../shared', '${WORKSPACE}/data', '--level=${LEVEL:-info}'],
          cwd: '..',
          env: { TOKEN: '${API_TOKEN}' },
        },
        api: { url: '${API_URL}/mcp', headers: { 'X-Token': 'Bearer ${API_TOKEN}' } },
      },
    }),
  );
  const env = { API_TOKEN: 's3cret', API_URL: 'https://api.example.com' };
  const config = loadMcpConfig({ location: path.join(dir, 'tools'), required: true }, env);
  const local = config.servers.local as StdioServerConfig;
  assert.equal(local.command, path.join(dir, 'tools', 'bin', 'server'));
  assert.deepEqual(local.args, [path.join(dir, 'shared'), `${path.join(dir, 'tools')}/data`, '--level=info']);
  assert.equal(local.cwd, dir);
  assert.deepEqual(local.env, { TOKEN: 's3cret' });
  const api = config.servers.api as HttpServerConfig;
  assert.equal(api.url, 'https://api.example.com/mcp');
  assert.deepEqual(api.headers, { 'X-Token': 'Bearer s3cret' });

  const elsewhere = loadMcpConfig(
    { location: path.join(dir, 'tools'), required: true },
    { ...env, WORKSPACE: '/srv/ws' },
  );
  assert.equal(
    (elsewhere.servers.local as StdioServerConfig).args[1],
    '/srv/ws/data',
    'WORKSPACE from the environment wins',
  );
});

test('layers: .mcp.json → .mcp.local.json → .mcp.<env>.json, later files replace servers by name', () => {
  const dir = folderWith({
    '.mcp.json': {
      mcpServers: {
        a: { command: 'base-a' },
        b: { command: 'base-b', args: ['x'] },
        c: { command: 'base-c' },
        d: { command: 'base-d' },
      },
    },
    '.mcp.local.json': { mcpServers: { b: { command: 'local-b' }, c: { disabled: true } } },
    '.mcp.staging.json': { mcpServers: { a: { url: 'http://staging:8080/mcp' }, e: { command: 'staging-e' } } },
    '.mcp.production.json': { mcpServers: { a: { command: 'prod-a' } } },
  });
  const config = loadMcpConfig({ location: dir, envName: 'staging', required: true }, {});
  assert.deepEqual(Object.keys(config.servers).sort(), ['a', 'b', 'd', 'e']);
  assert.equal(config.servers.a?.transport, 'http');
  assert.equal((config.servers.b as StdioServerConfig).command, 'local-b');
  assert.deepEqual((config.servers.b as StdioServerConfig).args, [], 'an override replaces the whole entry');
  assert.deepEqual(config.disabled, ['c']);
  assert.deepEqual(
    config.files.map((f) => path.basename(f)),
    ['.mcp.json', '.mcp.local.json', '.mcp.staging.json'],
  );
  const noEnv = loadMcpConfig({ location: dir, required: true }, {});
  assert.equal((noEnv.servers.a as StdioServerConfig).command, 'base-a');
});

test('a base file names its own layers: x.json → x.local.json → x.<env>.json', () => {
  const dir = folderWith({
    'servers.json': { mcpServers: { a: { command: 'one' } } },
    'servers.ci.json': { mcpServers: { a: { command: 'two' } } },
  });
  const config = loadMcpConfig({ location: path.join(dir, 'servers.json'), envName: 'ci', required: true }, {});
  assert.equal((config.servers.a as StdioServerConfig).command, 'two');
});

test('the worker reads MCP_CONFIG, MCP_ENV (else NODE_ENV) and the pool settings at start-up', () => {
  const dir = folderWith({
    '.mcp.json': { mcpServers: { a: { command: 'one' } } },
    '.mcp.test.json': { mcpServers: { a: { command: 'from-node-env' } } },
    '.mcp.ci.json': { mcpServers: { a: { command: 'from-mcp-env' } } },
  });
  const viaNodeEnv = loadOrchestratorWorkerConfig({ MCP_CONFIG: dir, NODE_ENV: 'test' });
  assert.equal((viaNodeEnv.mcp?.servers.servers.a as StdioServerConfig).command, 'from-node-env');
  const config = loadOrchestratorWorkerConfig({
    MCP_CONFIG: dir,
    NODE_ENV: 'test',
    MCP_ENV: 'ci',
    MCP_TOOL_CACHE_TTL: '30s',
    MCP_MAX_CONCURRENCY_PER_SERVER: '4',
  });
  assert.equal((config.mcp?.servers.servers.a as StdioServerConfig).command, 'from-mcp-env');
  assert.equal(config.mcp?.toolCacheTtlMs, 30_000);
  assert.equal(config.mcp?.maxConcurrencyPerServer, 4);
  assert.equal(loadOrchestratorWorkerConfig({}).mcp?.toolCacheTtlMs, 300_000, 'the TTL defaults to 5 minutes');
});

test('validation errors name the file and the key', async (t) => {
  await t.test('unknown field', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { fs: { command: 'x', argz: [] } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.fs.argz', /unknown field/);
  });
  await t.test('unknown top-level field', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: {}, servers: {} } });
    expectProblem(dir, '.mcp.json', 'servers', /unknown field/);
  });
  await t.test('field of the other transport', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { fs: { command: 'x', headers: {} } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.fs.headers', /unknown field/);
  });
  await t.test('missing command', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { fs: { args: ['a'] } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.fs.command', /missing: a stdio server needs "command"/);
  });
  await t.test('missing command with type stdio', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { fs: { type: 'stdio' } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.fs.command', /missing/);
  });
  await t.test('missing url', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { api: { type: 'http' } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.api.url', /missing: an HTTP server needs "url"/);
  });
  await t.test('bad URL', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { api: { url: 'not a url' } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.api.url', /"not a url" is not a valid http\(s\) URL/);
  });
  await t.test('URL with another protocol', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { api: { url: 'ftp://host/mcp' } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.api.url', /not a valid http\(s\) URL/);
  });
  await t.test('bad URL after expansion', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { api: { url: '${HOST}/mcp' } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.api.url', /"example\.com\/mcp" is not a valid/, {
      HOST: 'example.com',
    });
  });
  await t.test('missing variable', () => {
    const dir = folderWith({
      '.mcp.json': { mcpServers: { gh: { command: 'x', env: { TOKEN: '${GITHUB_TOKEN}' } } } },
    });
    expectProblem(dir, '.mcp.json', 'mcpServers.gh.env.TOKEN', /variable \$\{GITHUB_TOKEN\} is not set/);
  });
  await t.test('missing variable in an argument', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { gh: { command: 'x', args: ['ok', '${ROOT}/x'] } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.gh.args[1]', /\$\{ROOT\} is not set/);
  });
  await t.test('malformed variable reference', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { gh: { command: '${not valid}' } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.gh.command', /not a variable reference/);
  });
  await t.test('wrong types', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { fs: { command: 'x', args: 'a b', env: { N: 1 } } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.fs.args', /expected array/);
    expectProblem(dir, '.mcp.json', 'mcpServers.fs.env.N', /must be a string/);
  });
  await t.test('unknown transport type', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { fs: { type: 'websocket', url: 'ws://x' } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.fs.type', /one of stdio, http, streamable-http, sse/);
  });
  await t.test('server name with a dot', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: { 'my.fs': { command: 'x' } } } });
    expectProblem(dir, '.mcp.json', 'mcpServers.my.fs', /no dots/);
  });
  await t.test('invalid JSON', () => {
    const dir = folderWith({ '.mcp.json': '{ "mcpServers": { ' });
    expectProblem(dir, '.mcp.json', '(file)', /not valid JSON/);
  });
  await t.test('the error names the layer it is in', () => {
    const dir = folderWith({
      '.mcp.json': { mcpServers: { fs: { command: 'x' } } },
      '.mcp.local.json': { mcpServers: { fs: { command: 'x', cwdd: '.' } } },
    });
    expectProblem(dir, '.mcp.local.json', 'mcpServers.fs.cwdd', /unknown field/);
  });
  await t.test('MCP_CONFIG that does not exist', () => {
    assert.throws(
      () => loadOrchestratorWorkerConfig({ MCP_CONFIG: '/nonexistent/mcp' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.source === 'environment' &&
        /MCP_CONFIG: \/nonexistent\/mcp does not exist/.test(err.message),
    );
  });
  await t.test('MCP_CONFIG folder without any layer', () => {
    const dir = folderWith({});
    assert.throws(
      () => loadOrchestratorWorkerConfig({ MCP_CONFIG: dir }),
      /MCP_CONFIG: no \.mcp\.json, \.mcp\.local\.json in/,
    );
  });
  await t.test('MCP_ENV that cannot name a file', () => {
    const dir = folderWith({ '.mcp.json': { mcpServers: {} } });
    assert.throws(
      () => loadOrchestratorWorkerConfig({ MCP_CONFIG: dir, MCP_ENV: '../x' }),
      /MCP_ENV: "\.\.\/x" cannot name a config layer/,
    );
  });
  await t.test('pool settings', () => {
    assert.throws(
      () => loadOrchestratorWorkerConfig({ MCP_TOOL_CACHE_TTL: 'soon' }),
      (err: unknown) => err instanceof ConfigError && err.problems[0]?.key === 'MCP_TOOL_CACHE_TTL',
    );
    assert.throws(
      () => loadOrchestratorWorkerConfig({ MCP_MAX_CONCURRENCY_PER_SERVER: '0' }),
      (err: unknown) => err instanceof ConfigError && err.problems[0]?.key === 'MCP_MAX_CONCURRENCY_PER_SERVER',
    );
  });
});

test('a disabled server needs no valid definition or variables', () => {
  const dir = folderWith({
    '.mcp.json': { mcpServers: { gh: { command: 'x', env: { T: '${UNSET_TOKEN}' }, disabled: true } } },
  });
  const config = loadMcpConfig({ location: dir, required: true }, {});
  assert.deepEqual(config.servers, {});
  assert.deepEqual(config.disabled, ['gh']);
});
