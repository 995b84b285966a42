/** What a conformance run records per side, and RESULTS.md made from it. */
import type { Check, ScenarioRun } from './suite';

export type Side = 'server' | 'client';

/** An entry of expected.json: a scenario expected to fail (or a pass worth a note), with why. */
export interface Expectation {
  expect: 'pass' | 'fail';
  reason: string;
}

export interface ScenarioResult {
  scenario: string;
  result: 'pass' | 'fail';
  /** expected.json lists the scenario (with its reason) when it is expected to fail. */
  expected: 'pass' | 'fail';
  reason?: string;
  /** The suite's checks by status (its INFO entries, a log of the exchange, left out). */
  counts: { passed: number; failed: number; warnings: number };
  checks: { id: string; status: string }[];
  /** The failed checks (and warnings), as the suite words them. */
  failures: string[];
  durationMs: number;
  /** A failed client scenario: the end of what the client under test wrote to stderr. */
  clientError?: string;
  /** The suite's output when it recorded no checks at all. */
  log?: string;
}

export interface SideResults {
  side: Side;
  suite: string;
  node: string;
  target: string;
  startedAt: string;
  durationMs: number;
  /** Server side: starting the dev server, the worker and the API (part of durationMs). */
  setupMs?: number;
  scenarios: ScenarioResult[];
}

function countOf(checks: Check[]) {
  const count = (s: string) => checks.filter((c) => c.status === s).length;
  return { passed: count('SUCCESS'), failed: count('FAILURE'), warnings: count('WARNING') };
}

export function scenarioResult(scenario: string, run: ScenarioRun, exp: Expectation | undefined): ScenarioResult {
  // The suite's own verdict: for a client scenario a warning, a timeout or the client's error exit fails it too.
  const passed = run.exitCode === 0 && run.checks.length > 0;
  return {
    scenario,
    result: passed ? 'pass' : 'fail',
    expected: exp?.expect === 'fail' ? 'fail' : 'pass',
    ...(exp ? { reason: exp.reason } : {}),
    counts: countOf(run.checks),
    checks: run.checks.filter((c) => c.status !== 'INFO').map((c) => ({ id: c.id, status: c.status })),
    failures: run.checks
      .filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
      .map(
        (c) =>
          `${c.status === 'WARNING' ? '(warning) ' : ''}${c.name ?? c.id}: ${c.errorMessage ?? c.description ?? ''}`,
      ),
    durationMs: run.durationMs,
    ...(!passed && run.clientStderr ? { clientError: run.clientStderr.slice(-600) } : {}),
    ...(!passed && !run.checks.length ? { log: run.log } : {}),
  };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

function reasonOf(s: ScenarioResult): string {
  if (s.result === 'pass')
    return s.expected === 'fail' ? `passes now (expected.json still says: ${s.reason})` : (s.reason ?? '');
  if (s.reason && s.expected === 'fail') return s.reason;
  const why = s.failures.slice(0, 2).join('; ') || s.clientError?.split('\n').at(-1) || 'no checks recorded';
  return `UNEXPECTED: ${why}`;
}

export function renderResults(sides: (SideResults | undefined)[]): string {
  const lines = [
    '# MCP conformance results',
    '',
    'Written by `npm run conformance` (conformance/run.ts); do not edit by hand. Expected failures and',
    'their reasons live in conformance/expected.json; per-check detail in conformance/results/*.json.',
    '',
  ];
  for (const r of sides) {
    if (!r) continue;
    const passed = r.scenarios.filter((s) => s.result === 'pass').length;
    lines.push(
      `## ${r.side === 'server' ? 'Server side: the orchestrator at /mcp' : 'Client side: the worker MCP client pool'}`,
      '',
      `${r.suite} on Node ${r.node}, ${r.startedAt}: ${passed}/${r.scenarios.length} scenarios pass, ` +
        `${(r.durationMs / 1000).toFixed(0)} s` +
        (r.setupMs !== undefined ? ` (${(r.setupMs / 1000).toFixed(0)} s of it starting the server)` : '') +
        `. Target: ${r.target}.`,
      '',
      '| scenario | side | result | reason |',
      '| --- | --- | --- | --- |',
      ...r.scenarios.map(
        (s) =>
          `| ${s.scenario} | ${r.side} | ${s.result}${s.counts.warnings ? ` (${s.counts.warnings} warning(s))` : ''} | ${cell(reasonOf(s))} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}
