/**
 * The pieces of `npm run conformance` (conformance/) that decide what the suite sees: the proxy
 * that adds the API token to the suite's requests, and what the conformance client configures
 * and sends. Real HTTP servers on loopback; the suite itself runs in `npm run conformance`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startAuthProxy, type AuthProxy } from '../../conformance/auth-proxy';
import { serverEntryFor, SECRET_ENV } from '../../conformance/client-server-entry';
import { argumentsFor } from '../../conformance/tool-arguments';

interface Seen {
  host?: string;
  origin?: string;
  authorization?: string;
}

let upstream: http.Server;
let upstreamHost: string;
let proxy: AuthProxy;
const seen: Seen[] = [];
/** Lets the test release the second SSE event once it has seen the first. */
let releaseSecond: () => void = () => undefined;

before(async () => {
  upstream = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, origin: req.headers.origin, authorization: req.headers.authorization });
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      releaseSecond = () => res.end('data: two\n\n');
      return;
    }
    res.writeHead(req.headers.host === upstreamHost ? 200 : 403, { 'content-type': 'text/plain' });
    res.end(req.method === 'POST' ? 'posted' : 'ok');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  proxy = await startAuthProxy(`http://${upstreamHost}`, 'secret-token');
});

after(async () => {
  await proxy.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

test('the proxy adds the bearer token and presents its own Host and Origin as the upstream', async () => {
  seen.length = 0;
  const res = await fetch(`${proxy.url}/mcp`, { method: 'POST', headers: { origin: proxy.url }, body: 'x' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'posted');
  assert.deepEqual(seen, [
    { host: upstreamHost, origin: `http://${upstreamHost}`, authorization: 'Bearer secret-token' },
  ]);
});

test('a foreign Host or Origin reaches the upstream as sent (the DNS-rebinding probes)', async () => {
  seen.length = 0;
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const port = new URL(proxy.url).port;
    http
      .get(
        { host: '127.0.0.1', port, path: '/mcp', headers: { host: 'evil.example', origin: 'http://evil.example' } },
        (r) => {
          r.resume();
          resolve(r.statusCode);
        },
      )
      .on('error', reject);
  });
  assert.equal(status, 403);
  assert.deepEqual(seen, [
    { host: 'evil.example', origin: 'http://evil.example', authorization: 'Bearer secret-token' },
  ]);
});

test('an event stream passes event by event, not when it ends', { timeout: 10_000 }, async () => {
  const res = await fetch(`${proxy.url}/sse`);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.equal(first, 'data: one\n\n');
  releaseSecond();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
  assert.equal(rest, 'data: two\n\n');
});

test('the conformance client configures OAuth per auth scenario, naming the secret by variable', () => {
  const url = 'http://localhost:1/mcp';
  assert.equal(serverEntryFor(url, 'tools_call', {}).entry.auth, undefined);
  assert.deepEqual(serverEntryFor(url, 'auth/client-credentials-basic', { client_id: 'c', client_secret: 's' }), {
    entry: {
      type: 'http',
      url,
      elicitation: { allowed: true, timeout: '20s' },
      roots: true,
      auth: { type: 'oauth', grant: 'client_credentials', clientId: 'c', clientSecretEnv: SECRET_ENV },
    },
    env: { [SECRET_ENV]: 's' },
  });
  const code = serverEntryFor(url, 'auth/metadata-default', {}).entry.auth as Record<string, unknown>;
  assert.equal(code.grant, 'authorization_code');
  assert.equal(code.headless, true);
  assert.equal(code.clientId, undefined);
});

test('tools are called with a value for every required argument, defaults first', () => {
  assert.deepEqual(
    argumentsFor({
      inputSchema: {
        type: 'object',
        properties: {
          a: { type: 'number' },
          b: { type: 'integer', default: 7 },
          c: { type: 'string', enum: ['x', 'y'] },
          d: { type: 'object', properties: { e: { type: 'boolean' } }, required: ['e'] },
          optional: { type: 'string' },
        },
        required: ['a', 'b', 'c', 'd'],
      },
    }),
    { a: 2, b: 7, c: 'x', d: { e: true } },
  );
});
