/**
 * A node:test reporter that prints one plain line at the end: `42 passed, 0 failed[, 3 skipped]`.
 *
 * It counts tests, not containers: a `describe` suite or a `test` with subtests is counted
 * through its subtests, so twenty `it`s in one suite read as twenty. A container's own failure
 * (a failing hook, a file that does not load) counts once when none of its subtests failed.
 * Events arrive children-first, so per file and depth we tally the finished subtests until
 * their parent reports.
 */
export default async function* summaryReporter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  /** `${file}\0${nesting}` -> subtests finished at that depth whose parent has not reported yet. */
  const pending = new Map();
  const key = (file, nesting) => `${file ?? ''}\0${nesting}`;

  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, skip, todo, details } = event.data;
    const below = pending.get(key(file, nesting + 1)) ?? { count: 0, failed: 0 };
    pending.delete(key(file, nesting + 1));
    const isLeaf = below.count === 0 && details?.type !== 'suite';
    // A failing todo test does not fail the run.
    const failedHere = event.type === 'test:fail' && !todo;

    if (skip || todo) {
      if (below.count === 0) skipped++;
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
  // Let the spec reporter, which also finishes on the end of the stream, print its summary first.
  await new Promise((resolve) => setImmediate(resolve));
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
