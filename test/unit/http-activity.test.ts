import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHttpActivity, type HttpRequest, type HttpResponse } from '../../activities/http';

let server: Server;
let host: string;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, method: req.method }));
    } else if (req.url === '/down') {
      res.statusCode = 503;
      res.end('busy');
    } else if (req.url === '/missing') {
      res.statusCode = 404;
      res.end('no');
    } else res.end('x'.repeat(2000));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => server.close());

const run = (allowed: string[], req: HttpRequest): Promise<HttpResponse> =>
  new MockActivityEnvironment().run(createHttpActivity(allowed), req) as Promise<HttpResponse>;

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err;
  }
  throw new Error('expected a failure');
}

test('calls an allowed host and parses JSON', async () => {
  const res = await run([host], { url: `http://${host}/json`, method: 'POST', body: { a: 1 } });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { ok: true, method: 'POST' });
});

test('a host not in the allow-list is refused without a request, not retried', async () => {
  const f = await failure(run(['example.com'], { url: `http://${host}/json` }));
  assert.equal(f.type, 'HostNotAllowed');
  assert.equal(f.nonRetryable, true);
  assert.match(f.message, /not in HTTP_ALLOWED_HOSTS/);
  assert.equal((await failure(run([host], { url: 'file:///etc/passwd' }))).type, 'HostNotAllowed');
  assert.equal((await failure(run([host], { url: 'not a url' }))).type, 'InvalidArgument');
});

test('5xx is retryable, 4xx is not, oversized bodies are refused', async () => {
  const down = await failure(run([host], { url: `http://${host}/down` }));
  assert.deepEqual([down.type, down.nonRetryable], ['HttpServerError', false]);
  const missing = await failure(run([host], { url: `http://${host}/missing` }));
  assert.deepEqual([missing.type, missing.nonRetryable], ['HttpClientError', true]);
  assert.equal((await failure(run([host], { url: `http://${host}/big`, maxBytes: 100 }))).type, 'ResponseTooLarge');
});
