/**
 * createTestEnv's counterpart under `npm run test:cluster` (TEMPORAL_TEST_ADDRESS set): instead
 * of a dev server of its own, each test environment gets a namespace of its own on the running
 * cluster. That keeps what a fresh dev server gave each test (its own workflow ids, task queues
 * and visibility) while every run goes through PostgreSQL and the four real services.
 */
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { registerNamespace } from '../../temporal/cluster/namespace';

export async function createClusterTestEnv(address: string): Promise<TestWorkflowEnvironment> {
  const namespace = `test-${process.pid}-${randomUUID().slice(0, 8)}`;
  const connection = await Connection.connect({ address });
  try {
    await registerNamespace(connection, namespace, { retentionDays: 1 });
  } finally {
    await connection.close();
  }
  return TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
}
