import { pathToFileURL } from 'node:url';
import type { BlobReference } from '../../workflows/contracts/tool';
import { ContentStore, sha256Of } from '../blobs/content-store';

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
    const sha256 = sha256Of(data);
    const ref = { mimeType, bytes: data.length, sha256 };
    if (!this.dir) return { ...ref, ref: `sha256:${sha256}` };
    const { file } = await new ContentStore(this.dir).put(data, EXTENSIONS[mimeType] ?? '.bin', sha256);
    return { ...ref, ref: pathToFileURL(file).href };
  }
}
