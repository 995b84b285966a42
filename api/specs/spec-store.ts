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
 *
 * A file that cannot be read back as the spec its name promises (edited by hand, a version past
 * MAX_SPEC_VERSION written by older code, disk damage) is skipped and logged, never served and
 * never allowed to fail a listing; its version number is not reused.
 *
 * Versions read are kept parsed and validated (a run start of a named spec would otherwise read,
 * parse and validate the file every time), keyed by name and version and checked against the
 * file's inode, size and mtime on every read: one stat instead of a read, and a file changed by
 * hand is read again. The directory listing (which versions exist) is never cached.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import type { Spec } from '../../workflows/contracts/spec';
import { MAX_SPEC_VERSION, SPEC_NAME_PATTERN } from '../../workflows/spec/schema';
import { validateSpec } from '../../workflows/spec/validate';
import { canonicalJson } from '../util/canonical-json';

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

/** Every version has been used: the spec cannot take another (HTTP 409). */
export class SpecVersionsExhaustedError extends Error {
  constructor(readonly specName: string) {
    super(`spec "${specName}" has reached version ${MAX_SPEC_VERSION}, the highest; register it under a new name`);
    this.name = 'SpecVersionsExhaustedError';
  }
}

export interface SpecStoreLogger {
  warn(message: string): void;
}

const VERSION_FILE = /^v([1-9][0-9]{0,15})\.json$/;
const MAX_PUBLISH_ATTEMPTS = 5;
/** Parsed versions kept (least recently read dropped first); a spec is at most a few MB. */
const MAX_CACHED_VERSIONS = 256;

/** What identifies the bytes of a file without reading them. */
interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}
const sameStamp = (a: FileStamp, b: FileStamp) => a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Everything but `version` (JSON.stringify drops undefined). */
function contentOf(spec: Spec): string {
  return canonicalJson({ ...spec, version: undefined });
}

export class SpecStore {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Problems already logged, so a bad file is named once, not on every listing. */
  private readonly reported = new Set<string>();
  /** Versions read, by file path, with the stamp of the file they were read from (insertion order: LRU). */
  private readonly parsed = new Map<string, { stamp: FileStamp; stored: StoredSpec }>();
  /** Told of every new version stored by this process (the MCP server announces changed lists). */
  private readonly savedListeners = new Set<(stored: StoredSpec) => void>();

  constructor(
    readonly dir: string,
    private readonly logger: SpecStoreLogger = new Logger('SpecStore'),
  ) {}

  /**
   * Stores `spec` as a new version unless its content (everything but `version`) equals the
   * latest one's. The new version is the latest + 1, or the spec's own `version` if higher.
   */
  save(spec: Spec): Promise<SaveResult> {
    // Names reach the file system as directory names: never let one be a path.
    if (!SPEC_NAME_PATTERN.test(spec.name)) return Promise.reject(new Error(`invalid spec name "${spec.name}"`));
    return this.withLock(spec.name, async () => {
      for (let attempt = 0; ; attempt++) {
        const latest = await this.get(spec.name);
        if (latest && contentOf(latest.spec) === contentOf(spec)) return { stored: latest, created: false };
        // After every version file, readable or not: a number once used is never used again.
        const highest = (await this.versions(spec.name)).at(-1) ?? 0;
        const version = Math.max(highest + 1, spec.version ?? 0);
        if (version > MAX_SPEC_VERSION) throw new SpecVersionsExhaustedError(spec.name);
        const stored = await this.publish(spec, version);
        if (stored) {
          for (const listener of this.savedListeners) listener(stored);
          return { stored, created: true };
        }
        // Another writer took this version number between our read and our publish.
        if (attempt + 1 >= MAX_PUBLISH_ATTEMPTS) throw new Error(`could not store spec "${spec.name}": version race`);
      }
    });
  }

  /** Calls `listener` after each new version this process stores; returns the unsubscribe. */
  onSaved(listener: (stored: StoredSpec) => void): () => void {
    this.savedListeners.add(listener);
    return () => this.savedListeners.delete(listener);
  }

  /**
   * The given version of a spec, or its latest readable one; undefined when there is none (or
   * the file is unreadable, which is logged).
   */
  async get(name: string, version?: number): Promise<StoredSpec | undefined> {
    if (!SPEC_NAME_PATTERN.test(name)) return undefined;
    if (version !== undefined) return this.readOrSkip(name, version);
    const versions = await this.versions(name);
    for (let i = versions.length - 1; i >= 0; i--) {
      const stored = await this.readOrSkip(name, versions[i] as number);
      if (stored) return stored;
    }
    return undefined;
  }

  /**
   * Version numbers of a spec's files, ascending (a file may still prove unreadable); none for a
   * name no spec can have (e.g. `../x`). Files numbered past MAX_SPEC_VERSION are skipped.
   */
  async versions(name: string): Promise<number[]> {
    if (!SPEC_NAME_PATTERN.test(name)) return [];
    const files = await readdir(this.specDir(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [] as string[];
      throw err;
    });
    const versions: number[] = [];
    for (const file of files) {
      const digits = VERSION_FILE.exec(file)?.[1];
      if (digits === undefined) continue;
      const version = Number(digits);
      if (version <= MAX_SPEC_VERSION) versions.push(version);
      else this.reportOnce(path.join(this.specDir(name), file), `version is above ${MAX_SPEC_VERSION}`);
    }
    return versions.sort((a, b) => a - b);
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

  private async readOrSkip(name: string, version: number): Promise<StoredSpec | undefined> {
    try {
      return await this.read(name, version);
    } catch (err) {
      if (!(err instanceof SpecStoreError)) throw err;
      this.reportOnce(err.file, err.message);
      return undefined;
    }
  }

  private reportOnce(file: string, problem: string): void {
    const key = `${file}\n${problem}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.logger.warn(`skipping spec store file ${file}: ${problem}`);
  }

  private async read(name: string, version: number): Promise<StoredSpec | undefined> {
    const file = this.fileOf(name, version);
    let stamp: FileStamp & { mtime: Date };
    try {
      stamp = await stat(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code === 'EACCES') throw new SpecStoreError(file, `cannot be read (${code})`);
      throw err;
    }
    const known = this.parsed.get(file);
    if (known && sameStamp(known.stamp, stamp)) {
      this.parsed.delete(file);
      this.parsed.set(file, known);
      return known.stored;
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code === 'EISDIR' || code === 'EACCES') throw new SpecStoreError(file, `cannot be read (${code})`);
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
    const stored = { name, version, registeredAt: stamp.mtime.toISOString(), spec: checked.spec };
    // The stamp taken before the read: a write in between makes the next read miss, never serve stale.
    this.remember(file, { ino: stamp.ino, size: stamp.size, mtimeMs: stamp.mtimeMs }, stored);
    return stored;
  }

  private remember(file: string, stamp: FileStamp, stored: StoredSpec): void {
    this.parsed.delete(file);
    this.parsed.set(file, { stamp, stored });
    if (this.parsed.size > MAX_CACHED_VERSIONS) this.parsed.delete(this.parsed.keys().next().value as string);
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
