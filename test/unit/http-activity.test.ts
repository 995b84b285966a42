/**
 * The `http` activity against local HTTP servers on 127.0.0.1 (ports chosen by the OS). Loopback
 * is non-public, so each test that reaches a server names its address and port in the allow-list.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  createHttpActivity,
  type HttpActivityOptions,
  type HttpRequest,
  type HttpResponse,
} from '../../activities/http';
import { parseAllowEntry } from '../../activities/outbound/allow-list';
import { isPublicAddress } from '../../activities/outbound/non-public';
import { ConfigError } from '../../config/config-errors';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';

const STREAM_TOTAL = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

let main: Server;
let secret: Server;
let host: string; // 127.0.0.1:<main port>
let port: number;
let secretHost: string;
const hits: string[] = [];
let streamed: Promise<{ sent: number; finished: boolean }> | undefined;

/** Writes STREAM_TOTAL bytes unless the client goes away first; resolves with what was sent. */
function stream(req: IncomingMessage, res: ServerResponse): Promise<{ sent: number; finished: boolean }> {
  return new Promise((resolve) => {
    let sent = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
      resolve({ sent, finished: sent >= STREAM_TOTAL && res.writableFinished });
    });
    const pump = () => {
      while (!closed && sent < STREAM_TOTAL) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once('drain', pump);
      }
      if (!closed) res.end();
    };
    res.setHeader('content-type', 'text/plain');
    pump();
  });
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  hits.push(`${req.headers.host} ${req.method} ${req.url}`);
  switch (req.url) {
    case '/json':
      res.setHeader('content-type', 'application/json');
      return void res.end(JSON.stringify({ ok: true, method: req.method, host: req.headers.host }));
    case '/down':
      res.statusCode = 503;
      return void res.end('busy');
    case '/missing':
      res.statusCode = 404;
      return void res.end('no');
    case '/to-secret':
      res.writeHead(302, { location: `http://${secretHost}/secret` });
      return void res.end('redirecting');
    case '/to-json':
      res.writeHead(302, { location: '/json' });
      return void res.end();
    case '/post-303':
      res.writeHead(303, { location: '/json' });
      return void res.end();
    case '/loop':
      res.writeHead(302, { location: '/loop' });
      return void res.end();
    case '/stream':
      streamed = stream(req, res);
      return;
    case '/declared':
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      return void res.write('only the start');
    default:
      res.end('x'.repeat(2000));
  }
}

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

before(async () => {
  main = createServer(handle);
  secret = createServer((req, res) => {
    hits.push(`secret ${req.url}`);
    res.end('TOP SECRET');
  });
  port = await listen(main);
  host = `127.0.0.1:${port}`;
  secretHost = `127.0.0.1:${await listen(secret)}`;
});

after(() => {
  main.closeAllConnections();
  main.close();
  secret.close();
});

const run = (allowed: string[], req: HttpRequest, options?: HttpActivityOptions): Promise<HttpResponse> =>
  new MockActivityEnvironment().run(createHttpActivity(allowed, options), req) as Promise<HttpResponse>;

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err;
  }
  throw new Error('expected a failure');
}

const hitsDuring = async <T>(fn: () => Promise<T>): Promise<string[]> => {
  const start = hits.length;
  await fn().catch(() => undefined);
  return hits.slice(start);
};

test('calls an allowed address and parses JSON', async () => {
  const res = await run([host], { url: `http://${host}/json`, method: 'POST', body: { a: 1 } });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { ok: true, method: 'POST', host });
});

test('a host not in the allow-list is refused without a request, not retried', async () => {
  const seen = await hitsDuring(async () => {
    const f = await failure(run(['example.com'], { url: `http://${host}/json` }));
    assert.equal(f.type, 'HttpHostNotAllowed');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, new RegExp(`http://${host}/json.*not in HTTP_ALLOWED_HOSTS \\(example.com\\)`));
  });
  assert.deepEqual(seen, []);
  assert.equal((await failure(run([host], { url: 'file:///etc/passwd' }))).type, 'HttpHostNotAllowed');
  assert.equal((await failure(run([host], { url: 'not a url' }))).type, 'HttpInvalidRequest');
});

test('5xx is retryable, 4xx is not', async () => {
  const down = await failure(run([host], { url: `http://${host}/down` }));
  assert.deepEqual([down.type, down.nonRetryable], ['HttpServerError', false]);
  const missing = await failure(run([host], { url: `http://${host}/missing` }));
  assert.deepEqual([missing.type, missing.nonRetryable], ['HttpClientError', true]);
});

test('a 302 to a loopback port that is not allowed is refused; that server is never asked', async () => {
  const seen = await hitsDuring(async () => {
    const f = await failure(run([host], { url: `http://${host}/to-secret` }));
    assert.equal(f.type, 'HttpHostNotAllowed');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, new RegExp(`http://${secretHost}/secret \\(redirected from http://${host}/to-secret\\)`));
    assert.doesNotMatch(f.message, /TOP SECRET/);
    assert.deepEqual(f.details, []);
  });
  assert.deepEqual(seen, [`${host} GET /to-secret`], 'the secret server saw nothing');
});

test('redirects within the allow-list are followed (303 turns a POST into a GET), but not forever', async () => {
  const res = await run([host], { url: `http://${host}/to-json` });
  assert.deepEqual(res.body, { ok: true, method: 'GET', host });
  const posted = await run([host], { url: `http://${host}/post-303`, method: 'POST', body: { a: 1 } });
  assert.deepEqual(posted.body, { ok: true, method: 'GET', host });
  const unfollowed = await run([host], { url: `http://${host}/to-json`, maxRedirects: 0 });
  assert.equal(unfollowed.status, 302);
  const seen = await hitsDuring(async () => {
    const loop = await failure(run([host], { url: `http://${host}/loop` }));
    assert.deepEqual([loop.type, loop.nonRetryable], ['HttpTooManyRedirects', true]);
  });
  assert.equal(seen.length, 6, 'the first request and 5 redirects');
});

test('a name that resolves to a loopback address is refused unless an entry names the address', async () => {
  // The system resolver: localhost is 127.0.0.1 (or ::1); the name alone is not enough.
  const seen = await hitsDuring(async () => {
    const f = await failure(run([`localhost:${port}`], { url: `http://localhost:${port}/json` }));
    assert.equal(f.type, 'HttpAddressNotAllowed');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /"localhost" is at (127\.0\.0\.1|::1).*must name that address with port/);
  });
  assert.deepEqual(seen, []);

  // A resolver standing in for DNS: an allowed name whose answer is (or includes) a private address.
  const resolve = async (name: string) =>
    name === 'svc.test'
      ? [{ address: '127.0.0.1', family: 4 }]
      : [
          { address: '93.184.215.14', family: 4 },
          { address: '10.0.0.7', family: 4 },
        ];
  const viaName = await failure(run([`svc.test:${port}`], { url: `http://svc.test:${port}/json` }, { resolve }));
  assert.equal(viaName.type, 'HttpAddressNotAllowed');
  const mixed = await failure(run([`mixed.test:${port}`], { url: `http://mixed.test:${port}/json` }, { resolve }));
  assert.equal(mixed.type, 'HttpAddressNotAllowed', 'one private answer among public ones is refused');
  assert.match(mixed.message, /10\.0\.0\.7/);
  // Named address and port: the connection goes to the address that was checked.
  const ok = await run([`svc.test:${port}`, host], { url: `http://svc.test:${port}/json` }, { resolve });
  assert.deepEqual(ok.body, { ok: true, method: 'GET', host: `svc.test:${port}` });
  // An address entry for another port does not count.
  const otherPort = await failure(
    run([`svc.test:${port}`, `127.0.0.1:${port + 1}`], { url: `http://svc.test:${port}/json` }, { resolve }),
  );
  assert.equal(otherPort.type, 'HttpAddressNotAllowed');
});

test('a bare host entry allows ports 80 and 443 only; host:port that port only', async () => {
  const f = await failure(run(['127.0.0.1'], { url: `http://${host}/json` }));
  assert.equal(f.type, 'HttpHostNotAllowed');
  assert.match(f.message, new RegExp(`127.0.0.1 port ${port} is not in HTTP_ALLOWED_HOSTS`));
  const wrongPort = await failure(run([`127.0.0.1:${port + 1}`], { url: `http://${host}/json` }));
  assert.equal(wrongPort.type, 'HttpHostNotAllowed');

  assert.deepEqual(parseAllowEntry('Example.COM.'), { host: 'example.com', port: undefined, isAddress: false });
  assert.deepEqual(parseAllowEntry('[::1]:8080'), { host: '::1', port: 8080, isAddress: true });
  assert.deepEqual(parseAllowEntry('::1'), { host: '::1', port: undefined, isAddress: true });
  for (const bad of ['a:0', 'a:70000', 'a:x', 'http://a', 'a/b', '*.a.com', 'u@a', '[a]:1', ''])
    assert.throws(() => parseAllowEntry(bad), /write host, host:port/, bad);
  assert.throws(() => createHttpActivity(['ok.example', 'a:0']), /"a:0" has a bad port/);
  // The worker refuses to start on a bad entry, naming the variable.
  assert.throws(
    () => loadOrchestratorWorkerConfig({ HTTP_ALLOWED_HOSTS: 'ok.example, a:0' }),
    (err: unknown) =>
      err instanceof ConfigError && err.problems[0]?.key === 'HTTP_ALLOWED_HOSTS' && /"a:0"/.test(err.message),
  );
  const config = loadOrchestratorWorkerConfig({ HTTP_ALLOWED_HOSTS: 'api.example, [::1]:8080' });
  assert.deepEqual(config.httpAllowedHosts, ['api.example', '[::1]:8080']);
  assert.equal(config.httpMaxResponseBytes, 1024 * 1024);
});

test('an oversize streamed body is cut off while reading: the server sees the connection close', async () => {
  streamed = undefined;
  const f = await failure(run([host], { url: `http://${host}/stream` }, { maxResponseBytes: 256 * 1024 }));
  assert.deepEqual([f.type, f.nonRetryable], ['HttpResponseTooLarge', true]);
  assert.match(f.message, new RegExp(`http://${host}/stream: the response body passed the limit of 262144 bytes`));
  assert.ok(streamed, 'the server started streaming');
  const { sent, finished } = await streamed;
  assert.equal(finished, false, 'the server never got to finish');
  console.log(`http size cap: the server had sent ${sent} of ${STREAM_TOTAL} bytes when the client closed`);
  assert.ok(sent < STREAM_TOTAL, `the server sent ${sent} of ${STREAM_TOTAL} bytes before the connection closed`);

  const declared = await failure(run([host], { url: `http://${host}/declared` }, { maxResponseBytes: 1024 }));
  assert.equal(declared.type, 'HttpResponseTooLarge');
  assert.match(declared.message, /declares 10485760 bytes/);
  // A request may lower the server's limit, never raise it.
  assert.equal((await failure(run([host], { url: `http://${host}/big`, maxBytes: 100 }))).type, 'HttpResponseTooLarge');
  assert.equal(
    (await failure(run([host], { url: `http://${host}/big`, maxBytes: 1e9 }, { maxResponseBytes: 1000 }))).type,
    'HttpResponseTooLarge',
  );
  assert.equal((await run([host], { url: `http://${host}/big` }, { maxResponseBytes: 2000 })).status, 200);
});

test('non-public address ranges', () => {
  const nonPublic = [
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:8.8.8.8',
    '64:ff9b::a00:1',
    '2002:a00:1::1',
    'not-an-address',
  ];
  for (const a of nonPublic) assert.equal(isPublicAddress(a), false, a);
  for (const a of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111'])
    assert.equal(isPublicAddress(a), true, a);
});
