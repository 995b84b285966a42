import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ContentStore } from '../../activities/blobs/content-store';

test('concurrent puts of the same bytes all succeed and leave one file', async () => {
  // Identical runs store identical conversations at the same moment (bench/scale.ts).
  const dir = mkdtempSync(path.join(tmpdir(), 'content-store-'));
  const store = new ContentStore(dir);
  const data = Buffer.from(JSON.stringify({ turn: 'the same first turn' }));
  const stored = await Promise.all(Array.from({ length: 20 }, () => store.put(data, '.json')));
  assert.equal(new Set(stored.map((s) => s.file)).size, 1);
  assert.deepEqual(readdirSync(dir), [`${stored[0]!.sha256}.json`]);
  assert.deepEqual(await store.get(stored[0]!.sha256, '.json'), data);
});
