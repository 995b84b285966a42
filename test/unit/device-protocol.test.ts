import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  flashDataPayload,
  romChecksum,
  RomCommand,
  statusBytes,
} from '../../activities/device/rom-protocol';
import { slipEncode, SlipDemux } from '../../activities/device/slip';
import { resumeBlock } from '../../activities/device/uploaders/esp-serial';

test('SLIP escapes END and ESC inside a frame and round-trips', () => {
  const payload = Buffer.from([0x01, 0xc0, 0x02, 0xdb, 0x03]);
  const framed = slipEncode(payload);
  assert.deepEqual([...framed], [0xc0, 0x01, 0xdb, 0xdc, 0x02, 0xdb, 0xdd, 0x03, 0xc0]);
  const frames: Buffer[] = [];
  new SlipDemux((f) => frames.push(f)).push(framed);
  assert.deepEqual(frames, [payload]);
});

test('the demux separates console text from frames, across arbitrary chunk boundaries', () => {
  const stream = Buffer.concat([
    Buffer.from('ESP-ROM:esp32s3\r\n'),
    slipEncode(Buffer.from([1, 2, 0xc0])),
    Buffer.from('boot ok\n'),
    slipEncode(Buffer.from([9])),
  ]);
  const frames: number[][] = [];
  let text = '';
  const demux = new SlipDemux(
    (f) => frames.push([...f]),
    (t) => (text += t.toString()),
  );
  for (const b of stream) demux.push(Buffer.from([b])); // one byte at a time
  assert.deepEqual(frames, [[1, 2, 0xc0], [9]]);
  assert.equal(text, 'ESP-ROM:esp32s3\r\nboot ok\n');
});

test('a frame cut off by the sender is dropped when the next one starts', () => {
  const frames: number[][] = [];
  const demux = new SlipDemux((f) => frames.push([...f]));
  demux.push(Buffer.from([0xc0, 0x00, 0x03, 0x10])); // half a FLASH_DATA: the old worker died here
  demux.push(slipEncode(encodeRequest(RomCommand.SYNC)));
  // The garbage is closed by the new frame's END and fails to parse as a request; SLIP resyncs after.
  assert.equal(decodeRequest(Buffer.from(frames[0]!)), undefined);
  demux.push(slipEncode(encodeRequest(RomCommand.SYNC)));
  assert.equal(decodeRequest(Buffer.from(frames.at(-1)!))?.op, RomCommand.SYNC);
});

test('ROM packets: request and response layout, checksum, status bytes', () => {
  const block = Buffer.from([0x10, 0x20, 0x30]);
  assert.equal(romChecksum(block), 0xef ^ 0x10 ^ 0x20 ^ 0x30);
  const req = encodeRequest(RomCommand.FLASH_DATA, flashDataPayload(7, block), romChecksum(block));
  assert.equal(req[0], 0x00);
  assert.equal(req[1], RomCommand.FLASH_DATA);
  assert.equal(req.readUInt16LE(2), 16 + 3);
  const parsed = decodeRequest(req);
  assert.equal(parsed?.checksum, romChecksum(block));
  assert.equal(parsed?.data.readUInt32LE(4), 7);
  const res = decodeResponse(encodeResponse(RomCommand.FLASH_DATA, 0, statusBytes(0x07)));
  assert.deepEqual([...(res?.data ?? [])], [1, 0x07, 0, 0]);
  assert.equal(
    decodeRequest(Buffer.from([0x00, 0x08, 0x05, 0x00, 0, 0, 0, 0, 1])),
    undefined,
    'length field must match',
  );
});

test('a retry resumes at the last erase sector the board acknowledged, for the same image only', () => {
  const o = { md5: 'abc', offset: 0x10000, blockSize: 1024, totalBlocks: 100 };
  const prev = {
    phase: 'upload' as const,
    md5: 'abc',
    offset: 0x10000,
    blockSize: 1024,
    ackedBlocks: 42,
    bytesWritten: 0,
    totalBytes: 0,
  };
  assert.equal(resumeBlock(prev, o), 40);
  assert.equal(resumeBlock({ ...prev, ackedBlocks: 3 }, o), 0);
  assert.equal(resumeBlock({ ...prev, md5: 'other' }, o), 0, 'another image starts over');
  assert.equal(resumeBlock({ ...prev, blockSize: 512 }, o), 0);
  assert.equal(resumeBlock(undefined, o), 0);
  assert.equal(resumeBlock({ ...prev, ackedBlocks: 500 }, o), 100);
  assert.equal(resumeBlock({ ...prev, blockSize: 4096, ackedBlocks: 5 }, { ...o, blockSize: 4096 }), 5);
});
