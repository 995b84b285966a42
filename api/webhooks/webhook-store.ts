/**
 * Webhook subscriptions, one JSON file each: `<dir>/<id>.json`. Files for the same reasons as
 * the spec store (they survive restarts, need no extra service, read and diff well). A file is
 * written to a temp name, fsynced, renamed into place and the directory fsynced, so a crash
 * leaves the whole subscription or none; ids are random UUIDs, so no two writers share a name.
 * Read on every lookup (a run start reads the directory): several API replicas over one shared
 * directory see each other's changes at once.
 *
 * A file that cannot be read back as a subscription (edited by hand, disk damage) is skipped and
 * logged once, never served, and never fails a listing or a run start. No secret is stored: it
 * is derived from the server's signing secret and the id (activities/webhooks/webhook-secret.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES, type WebhookRetry, type WebhookTarget } from '../../workflows/contracts/run-events';

export interface WebhookSubscription extends WebhookTarget {
  /** Only runs of this spec; absent: every run. */
  spec?: string;
  /** ISO time the subscription was stored. */
  createdAt: string;
  /** The user who subscribed. */
  createdBy: string;
}

export type NewWebhookSubscription = Omit<WebhookSubscription, 'id' | 'createdAt'>;

const storedSchema: z.ZodType<WebhookSubscription> = z.object({
  id: z.uuid(),
  url: z.string().min(1),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1),
  spec: z.string().optional(),
  linksFor: z.string().optional(),
  retry: z
    .object({
      initialIntervalMs: z.number().int().positive().optional(),
      maxAttempts: z.number().int().positive().optional(),
    })
    .optional() satisfies z.ZodType<WebhookRetry | undefined>,
  createdAt: z.string(),
  createdBy: z.string(),
});

const FILE = /^([0-9a-f-]{36})\.json$/;

export interface WebhookStoreLogger {
  warn(message: string): void;
}

export class WebhookStore {
  private readonly reported = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly logger: WebhookStoreLogger = new Logger('WebhookStore'),
  ) {}

  async create(fields: NewWebhookSubscription): Promise<WebhookSubscription> {
    const subscription: WebhookSubscription = { id: randomUUID(), ...fields, createdAt: new Date().toISOString() };
    await mkdir(this.dir, { recursive: true });
    const final = this.fileOf(subscription.id);
    const temp = path.join(this.dir, `.${subscription.id}.json.${randomUUID()}.tmp`);
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(subscription, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, final);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await syncDir(this.dir);
    return subscription;
  }

  /** The subscription, or undefined when there is none (or its file is unreadable, which is logged). */
  async get(id: string): Promise<WebhookSubscription | undefined> {
    if (!z.uuid().safeParse(id).success) return undefined;
    return this.readOrSkip(id);
  }

  /** Every readable subscription, oldest first. */
  async list(): Promise<WebhookSubscription[]> {
    const files = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const all: WebhookSubscription[] = [];
    for (const file of files) {
      const id = FILE.exec(file)?.[1];
      if (id === undefined) continue;
      const subscription = await this.readOrSkip(id);
      if (subscription) all.push(subscription);
    }
    return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** true when it existed. */
  async delete(id: string): Promise<boolean> {
    if (!z.uuid().safeParse(id).success) return false;
    try {
      await rm(this.fileOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    await syncDir(this.dir);
    return true;
  }

  /** What a run of `specName` notifies: the subscriptions for that spec or for every run, without secrets. */
  async targetsFor(specName: string): Promise<WebhookTarget[]> {
    return (await this.list())
      .filter((s) => s.spec === undefined || s.spec === specName)
      .map(({ id, url, events, linksFor, retry }) => ({
        id,
        url,
        events,
        ...(linksFor !== undefined && { linksFor }),
        ...(retry !== undefined && { retry }),
      }));
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  private async readOrSkip(id: string): Promise<WebhookSubscription | undefined> {
    const file = this.fileOf(id);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code === 'EISDIR' || code === 'EACCES') return this.skip(file, `cannot be read (${code})`);
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return this.skip(file, `not valid JSON (${(err as Error).message})`);
    }
    const parsed = storedSchema.safeParse(raw);
    if (!parsed.success) {
      return this.skip(
        file,
        parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '),
      );
    }
    if (parsed.data.id !== id) return this.skip(file, `holds subscription ${parsed.data.id}, not ${id}`);
    return parsed.data;
  }

  private skip(file: string, problem: string): undefined {
    const key = `${file}\n${problem}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.logger.warn(`skipping webhook store file ${file}: ${problem}`);
    }
    return undefined;
  }
}

/** Makes a directory entry (a new, renamed or removed file) durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
