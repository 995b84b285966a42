import { ApplicationFailure } from '@temporalio/common';
import type { BlobActivities, BlobRef } from '../../workflows/contracts/blobs';
import { ContentStore } from './content-store';

const EXTENSION = '.json';

/**
 * The blob store the interpreter keeps big step outputs in while they travel between executions
 * (continue-as-new, child runs): JSON files named by their sha256 under `dir` (BLOB_STORE_DIR).
 */
export function createBlobActivities(dir: string): BlobActivities {
  const store = new ContentStore(dir);
  return {
    async storeBlob(value: unknown): Promise<BlobRef> {
      const { sha256, bytes } = await store.put(Buffer.from(JSON.stringify(value ?? null), 'utf8'), EXTENSION);
      return { sha256, bytes };
    },

    async loadBlob(ref: BlobRef): Promise<unknown> {
      const data = await store.get(ref.sha256, EXTENSION);
      if (!data) {
        // Retryable: on a host without the file another worker may have it; the workflow caps the attempts.
        throw ApplicationFailure.retryable(
          `blob ${ref.sha256} (${ref.bytes} bytes) is not in ${store.dir}: workers on several hosts ` +
            'need BLOB_STORE_DIR on a shared volume',
          'BlobMissing',
        );
      }
      return JSON.parse(data.toString('utf8')) as unknown;
    },
  };
}
