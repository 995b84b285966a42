/**
 * Re-records test/histories/*.json: `npx tsx test/histories/record.ts`. Run it only when a
 * deliberate, patched() change to workflow code needs new reference histories.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureTemporalCli } from '../../temporal/cli';
import { startOrchestrator } from '../helpers/orchestrator';
import { createTestEnv } from '../helpers/temporal';
import { SCENARIOS } from './scenarios';

async function main(): Promise<void> {
  const cli = await ensureTemporalCli();
  const env = await createTestEnv();
  const orch = await startOrchestrator(env);
  // Replay needs each run's workflow id (child ids derive from it); the histories do not hold it.
  // Entries of histories recorded by older code (e.g. budget-approval-legacy.json) are kept.
  const idsFile = path.join(__dirname, 'workflow-ids.json');
  const ids = JSON.parse(readFileSync(idsFile, 'utf8')) as Record<string, string>;
  try {
    for (const s of SCENARIOS) {
      const handle = await orch.start(s.spec, s.inputs, s.extra);
      await s.drive?.(handle);
      await handle.result().catch(() => undefined);
      // The CLI writes the standard JSON history format that every Temporal tool reads.
      const json = execFileSync(
        cli,
        ['workflow', 'show', '--address', env.address, '--workflow-id', handle.workflowId, '--output', 'json'],
        { encoding: 'utf8' },
      );
      const file = path.join(__dirname, `${s.name}.json`);
      writeFileSync(file, json);
      ids[`${s.name}.json`] = handle.workflowId;
      console.log(`recorded ${file} (${(JSON.parse(json) as { events: unknown[] }).events.length} events)`);
    }
    writeFileSync(idsFile, `${JSON.stringify(ids, null, 2)}\n`);
  } finally {
    await orch.stop();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
