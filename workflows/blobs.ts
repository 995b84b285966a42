import { proxyActivities } from '@temporalio/workflow';
import type { BlobActivities, BlobRef } from './contracts/blobs';

/** The blob store's activities as a step at `path` calls them (the path names them in the Web UI). */
function blobActivities(summary: string): BlobActivities {
  return proxyActivities<BlobActivities>({
    startToCloseTimeout: '1 minute',
    // A missing file may be on another host's disk for a while; after this the step fails, naming it.
    retry: { maximumAttempts: 5, initialInterval: '1 second' },
    summary,
  });
}

export function storeBlob(value: unknown, path: string): Promise<BlobRef> {
  return blobActivities(`${path}: store output`).storeBlob(value);
}

export function loadBlob(ref: BlobRef, path: string): Promise<unknown> {
  return blobActivities(`${path}: load output`).loadBlob(ref);
}
