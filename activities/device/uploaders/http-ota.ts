/** Uploads by POSTing (or PUTting) the raw image to the device's OTA endpoint, streaming it for progress. */
import { ApplicationFailure } from '@temporalio/common';
import { DeviceFailure } from '../../../workflows/contracts/device';
import { verifyOverConsole } from '../boot-verify';
import type { HttpOtaUploaderConfig } from '../config';
import { offline, uploadFailed } from '../errors';
import type { UploadJob, UploadReport } from './uploader';

const CHUNK = 16 * 1024;
const OFFLINE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'UND_ERR_CONNECT_TIMEOUT',
  'EAI_AGAIN',
]);

function causeCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let i = 0; i < 5 && current; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export async function uploadOverHttp(job: UploadJob): Promise<UploadReport> {
  const cfg = job.device.uploader as HttpOtaUploaderConfig;
  const url = job.device.otaUrl as string;
  const total = job.image.length;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = job.image.subarray(sent, sent + CHUNK);
      sent += chunk.length;
      job.progress({ phase: 'upload', md5: job.md5, totalBytes: total, bytesWritten: sent });
      controller.enqueue(chunk);
    },
  });
  let res: Response;
  try {
    res = await fetch(url, {
      method: cfg.method,
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(total),
        'x-firmware-md5': job.md5,
        ...cfg.headers,
      },
      signal: job.signal,
      duplex: 'half',
    } as RequestInit);
  } catch (err) {
    if (job.signal.aborted) throw err;
    const code = causeCode(err);
    if (code && OFFLINE_CODES.has(code)) throw offline(`OTA endpoint ${url} unreachable (${code})`);
    throw uploadFailed(`OTA upload to ${url} failed: ${(err as Error).message}${code ? ` (${code})` : ''}`);
  }
  const text = (await res.text()).slice(0, 500);
  if (res.status >= 400) {
    const message = `OTA endpoint ${url} answered ${res.status}: ${text}`;
    // A 4xx will not change on retry (wrong image, auth); a 5xx might.
    if (res.status < 500 && res.status !== 429)
      throw ApplicationFailure.create({ type: DeviceFailure.UploadFailed, message, nonRetryable: true });
    throw uploadFailed(message);
  }
  job.progress({ phase: 'verify', md5: job.md5, totalBytes: total, bytesWritten: total });
  return { bootLine: await verifyOverConsole(job.device, job.signal) };
}
