/**
 * The SSE response writer (api/events/sse-stream.ts) on a real HTTP server and socket: the
 * format, keep-alive comments on an idle stream, and backpressure — a slow reader holds the
 * writer back instead of making the server buffer what it has not read.
 */
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, test } from 'node:test';
import { SseStream } from '../../api/events/sse-stream';
import { waitFor } from '../helpers/journal';

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function serve(handler: (res: ServerResponse) => Promise<void>): Promise<string> {
  const server = createServer((_req, res) => void handler(res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request(url, resolve).on('error', reject).end());
}

test('events, the retry hint and keep-alive comments', async () => {
  let stream: SseStream | undefined;
  const url = await serve(async (res) => {
    stream = new SseStream(res, { keepAliveMs: 50, retryMs: 1234 });
    await stream.send('0-1-0', 'run.started', { hello: 'line\nbreak' });
  });
  const res = await get(url);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/event-stream/);
  assert.equal(res.headers['cache-control'], 'no-cache, no-transform');
  let text = '';
  res.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await waitFor('a keep-alive comment', () => text.includes(': keep-alive\n\n'), 10_000);
  assert.ok(text.startsWith('retry: 1234\n\nid: 0-1-0\nevent: run.started\ndata: {"hello":"line\\nbreak"}\n\n'), text);
  stream?.end();
  await new Promise((resolve) => res.on('end', resolve));
});

test('a slow reader holds the writer back: the server never buffers much more than the socket takes', async () => {
  const EVENTS = 200;
  const payload = 'x'.repeat(64 * 1024);
  const buffered: number[] = [];
  let highWaterMark = 0;
  const url = await serve(async (res) => {
    const stream = new SseStream(res, { keepAliveMs: 60_000, retryMs: 1000 });
    highWaterMark = res.writableHighWaterMark;
    for (let i = 0; i < EVENTS; i++) {
      await stream.send(`0-${i + 1}-0`, 'step.progress', { i, payload });
      buffered.push(res.writableLength);
    }
    stream.end();
  });
  const res = await get(url);
  // Read a chunk, then pause a little: far slower than the server could write.
  let bytes = 0;
  let ids = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    ids += (chunk.toString().match(/\nid: /g) ?? []).length;
    await delay(1);
  }
  assert.ok(bytes > EVENTS * payload.length, `received ${bytes} bytes`);
  assert.ok(ids >= EVENTS - 1);
  // Each send resolved only once the response's own buffer had drained below its mark.
  const event = payload.length + 100;
  assert.ok(Math.max(...buffered) <= highWaterMark + event, `buffered up to ${Math.max(...buffered)} bytes`);
});

test('a client that leaves ends the stream: sends resolve, the signal aborts', async () => {
  let stream: SseStream | undefined;
  const url = await serve(async (res) => {
    stream = new SseStream(res, { keepAliveMs: 60_000, retryMs: 1000 });
  });
  const res = await get(url);
  await waitFor('the stream', () => stream);
  res.destroy();
  await waitFor('the abort', () => stream?.signal.aborted, 10_000);
  await stream!.send('0-1-0', 'run.started', {});
  assert.equal(stream!.closed, true);
  stream!.end();
});
