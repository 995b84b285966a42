/**
 * `npm run test:cluster [-- FILTER...]`: starts the production-shaped cluster
 * (temporal/cluster/cluster.ts: PostgreSQL, the four Temporal services in their own processes,
 * the Web UI) from empty databases, runs the integration and end-to-end suites against it
 * through test/run-tests.ts (TEMPORAL_TEST_ADDRESS: each test environment is a namespace of its
 * own there, test/cluster/test-env.ts) plus the cluster's own tests, then stops it.
 * It builds the server, its SQL tool and the UI server with `go install` the first time.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, stopCluster } from '../../temporal/cluster/cluster';

const ROOT = path.resolve(__dirname, '../..');

/** The cluster's own tests (not *.test.ts: plain `npm test` has no cluster to give them). */
const CLUSTER_TESTS = ['test/cluster/worker-kill.cluster-test.ts', 'test/cluster/web-ui.cluster-test.ts'];

/**
 * Suites that do not run here, and why. Everything else under test/integration and test/e2e
 * does: its createTestEnv() gets a namespace on the cluster.
 */
const EXCLUDED: Record<string, string> = {
  'test/integration/dev-server.test.ts': 'tests the dev server of `npm start` itself (start-dev on a SQLite file)',
  'test/integration/approvals-restart.test.ts':
    'stops and restarts its own dev server on a SQLite file; the restart is what it tests',
  'test/integration/worker-versioning.test.ts':
    'starts its own dev server (uses no test environment): against the cluster it would repeat `npm test`',
  'test/integration/long-waits.test.ts':
    'needs the time-skipping test server to skip days; a cluster runs in real time',
  'test/e2e/web-ui.test.ts':
    "drives the dev server's embedded UI (its own server); the cluster's UI has web-ui.cluster-test.ts",
};

function suiteFiles(filters: string[]): string[] {
  const files = ['integration', 'e2e'].flatMap((dir) =>
    readdirSync(path.join(ROOT, 'test', dir))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `test/${dir}/${f}`),
  );
  return [...files.filter((f) => !(f in EXCLUDED)), ...CLUSTER_TESTS]
    .filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)))
    .sort();
}

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function runTests(files: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/run-tests.ts'), ...files], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    process.on('SIGTERM', (signal) => child.kill(signal));
    process.on('SIGINT', () => undefined); // the child gets it too; wait for its report
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const files = suiteFiles(filters);
  if (files.length === 0) {
    console.error(`no cluster suite files match ${filters.join(' or ')}`);
    return 1;
  }
  console.log('[cluster] not run against the cluster:');
  for (const [file, why] of Object.entries(EXCLUDED)) console.log(`[cluster]   ${file}: ${why}`);

  const stateDir = process.env.TEMPORAL_CLUSTER_STATE_DIR || path.join(os.tmpdir(), 'durable-agents-cluster-test');
  const log = (line: string) => console.log(`[cluster] ${line}`);
  const started = Date.now();
  try {
    const cluster = await startCluster({ stateDir, fresh: true, ui: true, log });
    log(`cluster up in ${seconds(started)}`);
    const suiteStarted = Date.now();
    const code = await runTests(files, {
      TEMPORAL_TEST_ADDRESS: cluster.address,
      ...(cluster.uiUrl && { TEMPORAL_TEST_UI_URL: cluster.uiUrl }),
    });
    log(`suite (${files.length} files) took ${seconds(suiteStarted)}`);
    return code;
  } finally {
    await stopCluster({ stateDir, log }).catch((err: unknown) => log(`stopping the cluster failed: ${err}`));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
