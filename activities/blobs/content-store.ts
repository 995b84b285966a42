import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StoredContent {
  sha256: string;
  bytes: number;
  /** Absolute path of the file holding the bytes. */
  file: string;
}

export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Content-addressed files under one directory: `<sha256><extension>`. The same bytes always land
 * in the same file, so a retried write adds nothing, and workers on one host share what they
 * wrote. Workers on several hosts need the directory on a shared volume.
 */
export class ContentStore {
  constructor(readonly dir: string) {}

  fileFor(sha256: string, extension = ''): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256 digest: ${JSON.stringify(sha256)}`);
    return path.resolve(this.dir, `${sha256}${extension}`);
  }

  async put(data: Uint8Array, extension = '', sha256 = sha256Of(data)): Promise<StoredContent> {
    const file = this.fileFor(sha256, extension);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(path.dirname(file), { recursive: true });
      // Written aside and renamed: a reader never sees half a file. The name is unique per call:
      // concurrent puts of the same bytes (identical runs) would otherwise rename one file twice.
      const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
      await writeFile(tmp, data);
      await rename(tmp, file);
    }
    return { sha256, bytes: data.length, file };
  }

  /** The bytes stored under `sha256`, checked against it; undefined when there is no such file. */
  async get(sha256: string, extension = ''): Promise<Buffer | undefined> {
    const file = this.fileFor(sha256, extension);
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const actual = sha256Of(data);
    if (actual !== sha256) throw new Error(`${file} is corrupt: its content hashes to ${actual}`);
    return data;
  }
}
