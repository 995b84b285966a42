/**
 * A node:test reporter that prints one plain line at the end: `42 passed, 0 failed, 0 skipped`.
 *
 * It counts tests, not containers: a `describe` suite or a `test` with subtests is counted
 * through its subtests, so twenty `it`s in one suite read as twenty. A container's own failure
 * (a failing hook, a file that does not load) counts once when none of its subtests failed.
 * Events arrive children-first, so per file and depth we tally the finished subtests until
 * their parent reports.
 *
 * Skipped and todo tests count as skipped, are listed above the line, and fail the run: the
 * runner (test/run-tests.ts) reads the counts from the JSON file named by TEST_SUMMARY_FILE.
 * Tests left out by --test-name-pattern or --test-only were deselected, not skipped: not counted.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Node 20 reports deselected tests as skipped with these reasons. */
const DESELECTED = new Set(['test name does not match pattern', "'only' option not set"]);

export default async function* summaryReporter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  /** `file: name (reason)` of each skipped or todo test. */
  const skips = [];
  /** `${file}\0${nesting}` -> subtests finished at that depth whose parent has not reported yet. */
  const pending = new Map();
  const key = (file, nesting) => `${file ?? ''}\0${nesting}`;

  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, name, nesting, skip, todo, details } = event.data;
    const below = pending.get(key(file, nesting + 1)) ?? { count: 0, failed: 0 };
    pending.delete(key(file, nesting + 1));
    const isLeaf = below.count === 0 && details?.type !== 'suite';
    // A failing todo test does not fail node:test; being a todo fails the run below.
    const failedHere = event.type === 'test:fail' && !todo;

    if (DESELECTED.has(skip)) {
      // Neither run nor skipped by the suite: the caller chose not to run it.
    } else if (skip || todo) {
      if (below.count === 0) {
        skipped++;
        const reason = typeof skip === 'string' ? skip : typeof todo === 'string' ? todo : todo ? 'todo' : '';
        skips.push(`${file ? path.relative(process.cwd(), file) : '?'}: ${name}${reason ? ` (${reason})` : ''}`);
      }
    } else if (failedHere) {
      if (isLeaf || below.failed === 0) failed++;
    } else if (isLeaf) {
      passed++;
    }

    const siblings = pending.get(key(file, nesting)) ?? { count: 0, failed: 0 };
    siblings.count++;
    if (failedHere || below.failed > 0) siblings.failed++;
    pending.set(key(file, nesting), siblings);
  }
  if (process.env.TEST_SUMMARY_FILE) {
    writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify({ passed, failed, skipped, skips }));
  }
  // Let the spec reporter, which also finishes on the end of the stream, print its summary first.
  await new Promise((resolve) => setImmediate(resolve));
  if (skips.length) {
    yield `\nskipped tests fail the run (every test must run):\n${skips.map((s) => `  - ${s}\n`).join('')}`;
  }
  yield `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
