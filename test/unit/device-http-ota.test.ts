/** The http-ota uploader against a local HTTP server standing in for the board's OTA endpoint. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { DeviceConfig } from '../../activities/device/config';
import { uploadOverHttp } from '../../activities/device/uploaders/http-ota';
import type { UploadProgress } from '../../workflows/contracts/device';

let server: Server;
let base: string;
const received: Array<{ path: string; body: Buffer; md5?: string; type?: string }> = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        body: Buffer.concat(chunks),
        md5: req.headers['x-firmware-md5'] as string,
        type: req.headers['content-type'],
      });
      const status = req.url === '/busy' ? 503 : req.url === '/wrong' ? 400 : 200;
      res.writeHead(status).end(status === 200 ? 'OK, rebooting' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function job(otaUrl: string, image: Buffer, progress: UploadProgress[] = []) {
  const device: DeviceConfig = {
    id: 'k1-ota',
    otaUrl,
    baudRate: 115200,
    uploader: { type: 'http-ota', method: 'POST' },
    uploadTimeoutMs: 10_000,
    heartbeatTimeoutMs: 1000,
    pickupTimeoutMs: 1000,
    commandTimeoutMs: 1000,
    leaseMs: 1000,
    retry: { maximumAttempts: 1, initialInterval: 10, backoffCoefficient: 2, maximumInterval: 10 },
  };
  const md5 = createHash('md5').update(image).digest('hex');
  return {
    device,
    artifact: '/fw.bin',
    image,
    md5,
    progress: (p: UploadProgress) => progress.push(p),
    signal: new AbortController().signal,
  };
}

test('POSTs the raw image with its MD5, reporting bytes sent as it streams', async () => {
  const image = randomBytes(100_000);
  const progress: UploadProgress[] = [];
  await uploadOverHttp(job(`${base}/update`, image, progress));
  const got = received.find((r) => r.path === '/update');
  assert.ok(got?.body.equals(image));
  assert.equal(got?.type, 'application/octet-stream');
  assert.equal(got?.md5, createHash('md5').update(image).digest('hex'));
  const sent = progress.filter((p) => p.phase === 'upload').map((p) => p.bytesWritten);
  assert.ok(sent.length >= 6, 'progress in several steps');
  assert.equal(sent.at(-1), image.length);
});

test('a 5xx is retryable, a 4xx is not, a closed port means the device is offline', async () => {
  const image = randomBytes(1000);
  await assert.rejects(
    uploadOverHttp(job(`${base}/busy`, image)),
    (e: unknown) => e instanceof ApplicationFailure && e.type === 'DeviceUploadFailed' && !e.nonRetryable,
  );
  await assert.rejects(
    uploadOverHttp(job(`${base}/wrong`, image)),
    (e: unknown) => e instanceof ApplicationFailure && e.type === 'DeviceUploadFailed' && e.nonRetryable,
  );
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await assert.rejects(
    uploadOverHttp(job(`http://127.0.0.1:${port}/update`, image)),
    (e: unknown) => e instanceof ApplicationFailure && e.type === 'DeviceUnreachable',
  );
});
