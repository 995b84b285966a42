import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StartupQuietLogger } from '../../api/startup-logger';

function captured(fn: () => void): string {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => (
    chunks.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

test("the API's start-up leaves out Nest's per-module and per-route lines, and keeps its own", () => {
  const logger = new StartupQuietLogger(false);
  const out = captured(() => {
    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.log('Mapped {/workflows, POST} route', 'RouterExplorer');
    logger.log('registered 5 example spec(s)', 'ExampleSpecs');
  });
  assert.doesNotMatch(out, /InstanceLoader|RouterExplorer/);
  assert.match(out, /registered 5 example spec\(s\)/);
  assert.match(
    captured(() => new StartupQuietLogger(true).log('Mapped {/health, GET} route', 'RouterExplorer')),
    /Mapped \{\/health, GET\} route/,
  );
});
