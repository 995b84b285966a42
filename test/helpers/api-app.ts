/**
 * The API as the e2e tests and benches start it: listening on a free loopback port, with its own
 * temporary spec and webhook stores (never a developer's), no example specs and no log output.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createApp, type CreateAppOptions } from '../../api/app';

export interface TestApp {
  app: INestApplication;
  /** e.g. `http://127.0.0.1:41234` */
  baseUrl: string;
  /** The temporary folder holding the stores. */
  dir: string;
  /** Closes the app and removes its stores. */
  stop(): Promise<void>;
}

export async function startTestApp(
  opts: Omit<CreateAppOptions, 'specStoreDir' | 'webhookStoreDir'> & { specStoreDir?: string },
): Promise<TestApp> {
  const dir = await mkdtemp(path.join(tmpdir(), 'api-app-'));
  const app = await createApp({
    examplesDir: null,
    port: 0,
    logger: false,
    ...opts,
    specStoreDir: opts.specStoreDir ?? path.join(dir, 'specs'),
    webhookStoreDir: path.join(dir, 'webhooks'),
  });
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    baseUrl,
    dir,
    async stop() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
