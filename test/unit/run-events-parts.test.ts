/**
 * The small parts of the run-event streams: event ids (order, parsing), the spec stream's cursor
 * (round trip, what is refused), and step.progress from the heartbeats our activities send.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareRunEventIds, formatRunEventId, parseRunEventId } from '../../api/events/event-ids';
import { progressFromHeartbeat } from '../../api/events/progress';
import { decodeSpecCursor, encodeSpecCursor } from '../../api/events/spec-cursor';
import type { BuildProgress } from '../../workflows/contracts/build';
import type { AcquireWaitProgress, UploadProgress } from '../../workflows/contracts/device';
import type { LlmHeartbeat } from '../../workflows/contracts/llm';

describe('run event ids', () => {
  test('compare as integers, not as text', () => {
    const ids = ['0-9-0', '0-10-0', '0-10-1', '0-10-1000', '1-2-0', '10-1-0'];
    const parsed = ids.map((id) => parseRunEventId(id)!);
    for (let i = 1; i < parsed.length; i++) assert.ok(compareRunEventIds(parsed[i - 1]!, parsed[i]!) < 0, ids[i]);
    assert.ok('0-10-0' < '0-9-0', 'as text they would not');
    assert.deepEqual(parsed.map(formatRunEventId), ids);
  });

  test('anything else is not an id', () => {
    for (const bad of ['', '1-2', '1-2-3-4', 'a-1-2', '-1-2-3', '1.2.3', '1-2-3x', `1-${'9'.repeat(16)}-0`]) {
      assert.equal(parseRunEventId(bad), undefined, bad);
    }
  });
});

describe('spec stream cursor', () => {
  test('round trip', () => {
    const cursor = {
      floor: 1_796_000_000_000,
      runs: new Map([
        ['release:a', '0-12-1'],
        ['release:"quoted" ü', '2-5-0'],
      ]),
    };
    const text = encodeSpecCursor(cursor);
    assert.match(text, /^c1\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeSpecCursor(text), cursor);
  });

  test('refuses what the stream never sent', () => {
    const encode = (value: unknown) => `c1.${Buffer.from(JSON.stringify(value)).toString('base64url')}`;
    for (const bad of [
      '0-1-2',
      'c1.',
      'c1.!!!',
      'c2.e30',
      encode({ f: -1, r: [] }),
      encode({ f: 1.5, r: [] }),
      encode({ f: 1, r: {} }),
      encode({ f: 1, r: [['run', 'not-an-id']] }),
      encode({ f: 1, r: [['', '0-1-0']] }),
      encode({ f: 1, r: [['run']] }),
      encode([]),
      `c1.${'A'.repeat(70_000)}`,
    ]) {
      assert.equal(decodeSpecCursor(bad), undefined, bad.slice(0, 60));
    }
  });
});

describe('step.progress from heartbeats', () => {
  test('an upload: phase, bytes and percent', () => {
    const beat: UploadProgress = { phase: 'upload', md5: 'x', bytesWritten: 3072, totalBytes: 4096, log: ['a', 'b'] };
    assert.deepEqual(progressFromHeartbeat(beat), {
      upload: { phase: 'upload', bytesWritten: 3072, totalBytes: 4096, percent: 75, log: ['a', 'b'] },
    });
  });

  test("a wait in a device's line: the place and the length of the line", () => {
    const beat: AcquireWaitProgress = { deviceId: 'k1', position: 2, waiting: 5 };
    assert.deepEqual(progressFromHeartbeat(beat), { deviceQueue: { deviceId: 'k1', position: 2, waiting: 5 } });
  });

  test('a build: its output so far and its last lines', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    const beat: BuildProgress = { bytes: 1234, tail: lines };
    assert.deepEqual(progressFromHeartbeat(beat), { build: { outputBytes: 1234, logTail: lines.slice(-20) } });
  });

  test('a model call: the tokens spent so far', () => {
    const beat: LlmHeartbeat = {
      provider: 'openai',
      limitedUntil: [],
      spent: { inputTokens: 120, outputTokens: 30, costUsd: 0.002, calls: 1 },
    };
    assert.deepEqual(progressFromHeartbeat(beat), {
      model: { provider: 'openai', tokens: { input: 120, output: 30 }, costUsd: 0.002 },
    });
    assert.equal(progressFromHeartbeat({ provider: 'openai', limitedUntil: [] }), undefined, 'nothing spent yet');
  });

  test("a counter such as an MCP tool's progress", () => {
    assert.deepEqual(progressFromHeartbeat({ progress: 5, total: 20, message: 'indexing' }), {
      progress: { done: 5, total: 20, percent: 25, message: 'indexing' },
    });
    assert.deepEqual(progressFromHeartbeat({ progress: 5 }), { progress: { done: 5 } });
  });

  test('other small details pass as they are; large or empty ones say nothing', () => {
    assert.deepEqual(progressFromHeartbeat({ stage: 'erase' }), { details: { stage: 'erase' } });
    assert.equal(progressFromHeartbeat({ blob: 'x'.repeat(5000) }), undefined);
    assert.equal(progressFromHeartbeat(undefined), undefined);
    assert.equal(progressFromHeartbeat('text'), undefined);
  });
});
