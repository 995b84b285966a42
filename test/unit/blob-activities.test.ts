import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createBlobActivities } from '../../activities/blobs/activities';

const dir = () => mkdtempSync(path.join(tmpdir(), 'blobs-'));

test('a stored output loads back as it was; the same content is one file', async () => {
  const at = dir();
  const blobs = createBlobActivities(at);
  const value = { text: 'é'.repeat(1000), list: [1, null, true] };
  const ref = await blobs.storeBlob(value);
  assert.equal(ref.bytes, Buffer.byteLength(JSON.stringify(value)));
  assert.match(ref.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(await blobs.loadBlob(ref), value);
  assert.deepEqual(await blobs.storeBlob(value), ref);
  assert.deepEqual(readdirSync(at), [`${ref.sha256}.json`]);
  assert.equal(await blobs.loadBlob(await blobs.storeBlob(null)), null);
});

test('a blob this host does not have fails retryably as BlobMissing, naming the directory', async () => {
  const at = dir();
  const ref = await createBlobActivities(dir()).storeBlob('elsewhere');
  await assert.rejects(createBlobActivities(at).loadBlob(ref), (err) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'BlobMissing');
    assert.equal(err.nonRetryable, false);
    assert.match(err.message, new RegExp(`not in ${at}.*shared volume`));
    return true;
  });
});

test('a file whose content no longer matches its hash is refused', async () => {
  const at = dir();
  const blobs = createBlobActivities(at);
  const ref = await blobs.storeBlob({ a: 1 });
  writeFileSync(path.join(at, `${ref.sha256}.json`), '{"a":2}');
  await assert.rejects(blobs.loadBlob(ref), /is corrupt/);
});
