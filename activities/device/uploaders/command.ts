/**
 * Uploads by running the device's configured command line (e.g. `pio run -t upload` or
 * `esptool write-flash`): argv from server config with `{artifact}`, `{port}`, `{baud}` and
 * `{otaUrl}` filled in, never anything from a request. Progress is read from its `NN%` output.
 */
import { ApplicationFailure } from '@temporalio/common';
import { runProcessGroup } from '../../build/process-group';
import { verifyOverConsole } from '../boot-verify';
import type { CommandUploaderConfig } from '../config';
import { offline, uploadFailed } from '../errors';
import type { UploadJob, UploadReport } from './uploader';

const PERCENT_RE = /(\d{1,3}(?:\.\d+)?)\s?%/g;

export function commandArgv(job: Pick<UploadJob, 'device' | 'artifact'>): string[] {
  const cfg = job.device.uploader as CommandUploaderConfig;
  const values: Record<string, string> = {
    artifact: job.artifact,
    port: job.device.serialPath ?? '',
    baud: String(job.device.baudRate),
    otaUrl: job.device.otaUrl ?? '',
  };
  return cfg.argv.map((arg) => arg.replace(/\{(artifact|port|baud|otaUrl)\}/g, (_, k: string) => values[k] as string));
}

function lastPercent(lines: string[]): number | undefined {
  let pct: number | undefined;
  for (const line of lines) for (const m of line.matchAll(PERCENT_RE)) pct = Number(m[1]);
  return pct === undefined ? undefined : Math.min(100, pct);
}

export async function uploadWithCommand(job: UploadJob): Promise<UploadReport> {
  const cfg = job.device.uploader as CommandUploaderConfig;
  const total = job.image.length;
  let run;
  try {
    run = await runProcessGroup({
      argv: commandArgv(job),
      cwd: cfg.cwd,
      env: { ...process.env, ...cfg.env },
      signal: job.signal,
      onOutput: (tail) => {
        const pct = lastPercent(tail.slice(-5)) ?? 0;
        job.progress({
          phase: 'upload',
          md5: job.md5,
          totalBytes: total,
          bytesWritten: Math.round((pct / 100) * total),
          log: tail.slice(-10),
        });
      },
    });
  } catch (err) {
    throw ApplicationFailure.create({
      type: 'DeviceUploadFailed',
      message: (err as Error).message,
      nonRetryable: true,
    });
  }
  if (job.signal.aborted) throw job.signal.reason ?? new Error('cancelled');
  if (run.exitCode !== 0) {
    const output = run.tail.join('\n');
    const why = `upload command exited with ${run.exitCode ?? run.signal}: ${run.tail.slice(-3).join(' | ')}`;
    if (new RegExp(cfg.offlinePattern).test(output)) throw offline(why, { log: run.tail });
    throw uploadFailed(why, { log: run.tail });
  }
  job.progress({ phase: 'verify', md5: job.md5, totalBytes: total, bytesWritten: total, log: run.tail.slice(-10) });
  return { bootLine: await verifyOverConsole(job.device, job.signal) };
}
