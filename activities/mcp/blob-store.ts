import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BlobReference } from '../../workflows/steps/tool';

const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'image/svg+xml': '.svg',
  'audio/wav': '.wav',
  'audio/mpeg': '.mp3',
  'application/pdf': '.pdf',
  'application/zip': '.zip',
  'application/gzip': '.gz',
};

/**
 * Content-addressed storage for binary tool output: the same bytes always land in the same
 * file, so a retried call writes nothing new. Without a directory only the hash is kept.
 */
export class BlobStore {
  constructor(readonly dir?: string) {}

  async put(base64: string, mimeType: string): Promise<BlobReference> {
    const data = Buffer.from(base64, 'base64');
    const sha256 = createHash('sha256').update(data).digest('hex');
    const ref = { mimeType, bytes: data.length, sha256 };
    if (!this.dir) return { ...ref, ref: `sha256:${sha256}` };
    const file = path.resolve(this.dir, `${sha256}${EXTENSIONS[mimeType] ?? '.bin'}`);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, data);
      await rename(tmp, file);
    }
    return { ...ref, ref: pathToFileURL(file).href };
  }
}
