/**
 * Registered specs, one JSON file per version: `<dir>/<name>/v<version>.json`, read on demand.
 *
 * Why files: they survive restarts, anyone can read or diff them, and they need no extra service.
 * Each version is written to a temp file, fsynced, then published under its final name and the
 * directory fsynced, so a crash leaves either the whole version or none. Publishing uses link()
 * rather than rename(): both are atomic, but link fails when the name exists, so a version once
 * stored is never replaced. Version numbers are assigned under an in-process lock: run one API
 * replica per store directory; several replicas need a database (or a shared volume with
 * link-capable semantics, where a lost race shows up as a retry, never as a lost version).
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Spec } from '../../workflows/shared';
import { SPEC_NAME_PATTERN } from '../../workflows/spec/schema';
import { validateSpec } from '../../workflows/spec/validate';

export interface StoredSpec {
  name: string;
  version: number;
  /** ISO time the version was stored. */
  registeredAt: string;
  spec: Spec;
}

export interface SaveResult {
  stored: StoredSpec;
  /** false when the content equals the latest version's, which is returned instead. */
  created: boolean;
}

/** A stored file that cannot be read back as a valid spec (edited by hand, disk damage). */
export class SpecStoreError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`spec store file ${file}: ${detail}`);
    this.name = 'SpecStoreError';
  }
}

const VERSION_FILE = /^v([1-9]\d*)\.json$/;
const MAX_PUBLISH_ATTEMPTS = 5;

/** JSON with object keys sorted, so equal content compares equal whatever the key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Everything but `version` (JSON.stringify drops undefined). */
function contentOf(spec: Spec): string {
  return canonicalJson({ ...spec, version: undefined });
}

export class SpecStore {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(readonly dir: string) {}

  /**
   * Stores `spec` as a new version unless its content (everything but `version`) equals the
   * latest one's. The new version is the latest + 1, or the spec's own `version` if higher.
   */
  save(spec: Spec): Promise<SaveResult> {
    // Names reach the file system as directory names: never let one be a path.
    if (!SPEC_NAME_PATTERN.test(spec.name)) return Promise.reject(new Error(`invalid spec name "${spec.name}"`));
    return this.withLock(spec.name, async () => {
      for (let attempt = 0; ; attempt++) {
        const versions = await this.versions(spec.name);
        const latestVersion = versions.at(-1);
        const latest = latestVersion === undefined ? undefined : await this.read(spec.name, latestVersion);
        if (latest && contentOf(latest.spec) === contentOf(spec)) return { stored: latest, created: false };
        const version = Math.max((latestVersion ?? 0) + 1, spec.version ?? 0);
        const stored = await this.publish(spec, version);
        if (stored) return { stored, created: true };
        // Another writer took this version number between our read and our publish.
        if (attempt + 1 >= MAX_PUBLISH_ATTEMPTS) throw new Error(`could not store spec "${spec.name}": version race`);
      }
    });
  }

  /** The given version of a spec, or its latest; undefined when there is none. */
  async get(name: string, version?: number): Promise<StoredSpec | undefined> {
    if (!SPEC_NAME_PATTERN.test(name)) return undefined;
    const wanted = version ?? (await this.versions(name)).at(-1);
    if (wanted === undefined) return undefined;
    return this.read(name, wanted);
  }

  /** Version numbers of a spec, ascending; none for a name no spec can have (e.g. `../x`). */
  async versions(name: string): Promise<number[]> {
    if (!SPEC_NAME_PATTERN.test(name)) return [];
    const files = await readdir(this.specDir(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    return files
      .map((f) => VERSION_FILE.exec(f)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Names of every stored spec, sorted. */
  async names(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    return entries
      .filter((e) => e.isDirectory() && SPEC_NAME_PATTERN.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  private specDir(name: string): string {
    return path.join(this.dir, name);
  }

  private fileOf(name: string, version: number): string {
    return path.join(this.specDir(name), `v${version}.json`);
  }

  private async read(name: string, version: number): Promise<StoredSpec | undefined> {
    const file = this.fileOf(name, version);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new SpecStoreError(file, `not valid JSON (${(err as Error).message})`);
    }
    const checked = validateSpec(raw);
    if (!checked.ok) throw new SpecStoreError(file, checked.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    if (checked.spec.name !== name || checked.spec.version !== version) {
      throw new SpecStoreError(file, `holds ${checked.spec.name} v${checked.spec.version}, not ${name} v${version}`);
    }
    const { mtime } = await stat(file);
    return { name, version, registeredAt: mtime.toISOString(), spec: checked.spec };
  }

  /** Writes the version atomically; undefined if that version already exists. */
  private async publish(spec: Spec, version: number): Promise<StoredSpec | undefined> {
    const dir = this.specDir(spec.name);
    await mkdir(dir, { recursive: true });
    const { name } = spec;
    // name and version first, so the file reads well.
    const stored: Spec = Object.assign({ name, version }, spec, { version });
    const final = this.fileOf(name, version);
    const temp = path.join(dir, `.v${version}.json.${randomUUID()}.tmp`);
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(stored, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, final);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    } finally {
      await rm(temp, { force: true });
    }
    await syncDir(dir);
    await syncDir(this.dir);
    const { mtime } = await stat(final);
    return { name, version, registeredAt: mtime.toISOString(), spec: stored };
  }

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}

/** Makes a directory entry (a new or renamed file) durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
