/**
 * The orchestrator as the conformance suite's server mode meets it: a Temporal dev server (our
 * CLI, in memory, on a free loopback port), an orchestrator worker, and the API with its example
 * specs and real bearer-token auth, in this process, as the e2e tests start them; the suite
 * reaches the API's `/mcp` through a proxy that adds an admin token (see auth-proxy.ts).
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testAuth } from '../test/helpers/api-auth';
import { startTestApp, type TestApp } from '../test/helpers/api-app';
import { startOrchestrator, type Orchestrator } from '../test/helpers/orchestrator';
import { createTestEnv } from '../test/helpers/temporal';
import { testTemporalConfig } from '../test/helpers/worker';
import { startAuthProxy, type AuthProxy } from './auth-proxy';

export const MCP_PATH = '/mcp';
const EXAMPLES = path.resolve(__dirname, '../examples');

export interface ServerUnderTest {
  /** What the suite is given: the proxy's `/mcp`. */
  url: string;
  /** The API's own `/mcp` (needs the token). */
  apiUrl: string;
  stop(): Promise<void>;
}

export async function startServerUnderTest(log: (line: string) => void): Promise<ServerUnderTest> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log(`stopping: ${String(err)}`));
  };
  try {
    const env: TestWorkflowEnvironment = await createTestEnv();
    stops.push(() => env.teardown());
    log(`Temporal dev server at ${env.address}`);
    const orchestrator: Orchestrator = await startOrchestrator(env);
    stops.push(() => orchestrator.stop());
    const auth = testAuth();
    const app: TestApp = await startTestApp({
      temporal: testTemporalConfig(env, orchestrator.taskQueue),
      client: env.client,
      auth: auth.auth,
      examplesDir: EXAMPLES,
      host: '127.0.0.1',
    });
    stops.push(() => app.stop());
    log(`API at ${app.baseUrl} (worker on task queue ${orchestrator.taskQueue})`);
    const proxy: AuthProxy = await startAuthProxy(app.baseUrl, auth.tokens.admin);
    stops.push(() => proxy.close());
    return { url: `${proxy.url}${MCP_PATH}`, apiUrl: `${app.baseUrl}${MCP_PATH}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
