/**
 * `npm run conformance [-- server|client|all] [--scenario NAME]... [--url URL]`: the published MCP
 * conformance suite against both sides of the orchestrator.
 *
 * - server: the orchestrator's own MCP server (`/mcp` in the API), started here with a Temporal dev
 *   server and a worker (server-under-test.ts); `--url` tests a server already running instead.
 * - client: the suite's scenario servers against the worker's MCP client pool (client-entry.ts).
 *
 * Every scenario of the pinned suite runs, one at a time. Results go to conformance/results/
 * <side>.json and conformance/RESULTS.md. It exits non-zero when a scenario that expected.json does
 * not list as an expected failure fails; one listed there that passes is reported, not failed.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  ensureSuite,
  listScenarios,
  runScenario,
  NODE_VERSION,
  SUITE_PACKAGE,
  SUITE_VERSION,
  type Suite,
} from './suite';
import { startServerUnderTest } from './server-under-test';
import {
  renderResults,
  scenarioResult,
  type Expectation,
  type ScenarioResult,
  type SideResults,
  type Side,
} from './results';

const HERE = __dirname;
const RESULTS_DIR = path.join(HERE, 'results');

type Expected = Record<Side, Record<string, Expectation>>;

const CLIENT_TARGET =
  'conformance/client-entry.ts: a .mcp.json per scenario, loaded by the worker config loader, used through McpClientPool';
const SERVER_TARGET =
  "the API's /mcp, started here with a dev server and a worker; the suite cannot send headers, so it went " +
  'through conformance/auth-proxy.ts, which adds an admin bearer token';

const log = (line: string) => process.stderr.write(`[conformance] ${line}\n`);

function parseArgs(argv: string[]): { sides: Side[]; scenarios: string[]; url?: string } {
  const sides: Side[] = [];
  const scenarios: string[] = [];
  let url: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === 'server' || a === 'client') sides.push(a);
    else if (a === 'all') sides.push('server', 'client');
    else if (a === '--scenario' && argv[i + 1]) scenarios.push(argv[++i]!);
    else if (a === '--url' && argv[i + 1]) url = argv[++i]!;
    else throw new Error(`unknown argument "${a}": use server|client|all, --scenario NAME, --url URL`);
  }
  return { sides: sides.length ? [...new Set(sides)] : ['server', 'client'], scenarios, url };
}

/** The client under test: this Node (the project's) running client-entry.ts through tsx; the suite appends the URL. */
function clientCommand(): string {
  const tsx = require.resolve('tsx/cli');
  const parts = [process.execPath, tsx, path.join(HERE, 'client-entry.ts')];
  if (parts.some((p) => /\s/.test(p))) throw new Error(`the suite splits its --command on spaces: ${parts.join(' ')}`);
  return parts.join(' ');
}

async function runSide(
  suite: Suite,
  side: Side,
  expected: Expected,
  only: string[],
  url?: string,
): Promise<SideResults> {
  const started = Date.now();
  const all = await listScenarios(suite, side);
  const unknown = only.filter((s) => !all.includes(s));
  if (unknown.length) throw new Error(`no ${side} scenario ${unknown.join(', ')} in ${SUITE_PACKAGE}@${SUITE_VERSION}`);
  const strays = Object.keys(expected[side]).filter((s) => !all.includes(s));
  if (strays.length)
    throw new Error(`expected.json names ${side} scenarios the suite does not have: ${strays.join(', ')}`);
  const scenarios = only.length ? all.filter((s) => only.includes(s)) : all;
  let target: { url?: string; command?: string };
  let stop = async () => undefined as void;
  let setupMs: number | undefined;
  if (side === 'client') target = { command: clientCommand() };
  else if (url) target = { url };
  else {
    const startingAt = Date.now();
    const server = await startServerUnderTest(log);
    setupMs = Date.now() - startingAt;
    stop = server.stop;
    target = { url: server.url };
    log(`suite -> ${server.url} (auth proxy) -> ${server.apiUrl}`);
  }
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      const run = await runScenario(suite, side, scenario, target);
      const exp = expected[side][scenario];
      const result = scenarioResult(scenario, run, exp);
      results.push(result);
      const unexpected = result.result === 'fail' && result.expected === 'pass';
      const mark = result.result === 'pass' ? 'pass' : unexpected ? 'FAIL' : 'fail (expected)';
      log(`${side} ${scenario}: ${mark} (${result.counts.passed}/${run.checks.length} checks, ${run.durationMs} ms)`);
      if (unexpected) for (const f of result.failures.slice(0, 5)) log(`    ${f}`);
    }
  } finally {
    await stop();
  }
  return {
    side,
    suite: `${SUITE_PACKAGE}@${SUITE_VERSION}`,
    node: NODE_VERSION,
    target: side === 'client' ? CLIENT_TARGET : (url ?? SERVER_TARGET),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    ...(setupMs !== undefined ? { setupMs } : {}),
    scenarios: results,
  };
}

/** Written as Prettier would, so `npm run lint` passes on freshly written results. */
async function writeFormatted(file: string, text: string): Promise<void> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
}

function readSide(side: Side): SideResults | undefined {
  const file = path.join(RESULTS_DIR, `${side}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SideResults) : undefined;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const expected = JSON.parse(readFileSync(path.join(HERE, 'expected.json'), 'utf8')) as Expected;
  const suite = await ensureSuite(log);
  mkdirSync(RESULTS_DIR, { recursive: true });
  let regressions = 0;
  for (const side of args.sides) {
    const results = await runSide(suite, side, expected, args.scenarios, args.url);
    // A partial run (--scenario) does not overwrite the recorded results.
    if (!args.scenarios.length)
      await writeFormatted(path.join(RESULTS_DIR, `${side}.json`), JSON.stringify(results, null, 2));
    const bad = results.scenarios.filter((s) => s.result === 'fail' && s.expected === 'pass');
    const fixed = results.scenarios.filter((s) => s.result === 'pass' && s.expected === 'fail');
    const passed = results.scenarios.filter((s) => s.result === 'pass').length;
    log(
      `${side}: ${passed}/${results.scenarios.length} scenarios pass in ${(results.durationMs / 1000).toFixed(1)} s; ` +
        `${bad.length} unexpected failure(s)` +
        (fixed.length ? `; now passing, remove from expected.json: ${fixed.map((s) => s.scenario).join(', ')}` : ''),
    );
    regressions += bad.length;
  }
  if (!args.scenarios.length) {
    await writeFormatted(path.join(HERE, 'RESULTS.md'), renderResults([readSide('server'), readSide('client')]));
  }
  return regressions ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
