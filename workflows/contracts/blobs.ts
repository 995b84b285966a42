/** The blob store's contract: step outputs kept out of history as content-addressed JSON. */

/**
 * A step output kept in the blob store (BLOB_STORE_DIR): content-addressed JSON, loaded by the
 * run that needs it again. Only its hash and size travel in workflow inputs and history.
 */
export interface BlobRef {
  sha256: string;
  bytes: number;
}

/** The blob store's activities, registered on the orchestrator worker. */
export interface BlobActivities {
  storeBlob(value: unknown): Promise<BlobRef>;
  loadBlob(ref: BlobRef): Promise<unknown>;
}
