import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { TemporalConfig } from '../../temporal/config';

let dataDir: string | undefined;

/**
 * Where a worker under test keeps blobs (agent conversations, big outputs, MCP images) and process
 * ledgers: one temporary directory per test process, removed when it exits. Never the defaults
 * under the repository's .data, which hold a developer's own runs (and ledgers a worker reaps).
 * For loadOrchestratorWorkerConfig(env) and the environment of a spawned worker.
 */
export function testDataEnv(): { BLOB_STORE_DIR: string; MCP_BLOB_DIR: string; WORKER_RUN_DIR: string } {
  if (dataDir === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), 'worker-data-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    dataDir = dir;
  }
  return {
    BLOB_STORE_DIR: path.join(dataDir, 'blobs'),
    MCP_BLOB_DIR: path.join(dataDir, 'mcp-blobs'),
    WORKER_RUN_DIR: path.join(dataDir, 'run'),
  };
}

/** How a worker under test reaches the test server, polling `taskQueue`. */
export function testTemporalConfig(env: TestWorkflowEnvironment, taskQueue: string): TemporalConfig {
  return { address: env.address, namespace: env.namespace ?? 'default', uiUrl: 'http://127.0.0.1:8233', taskQueue };
}

/** Runs `worker` in this process; the returned function shuts it down and waits for it to finish. */
export function runInProcess(worker: Worker): () => Promise<void> {
  const running = worker.run();
  return async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
}
