/**
 * The ESP32 ROM serial bootloader's command packets, as documented in Espressif's "Serial
 * Protocol" reference. A request is `00 op len:u16 checksum:u32 data`; a response is
 * `01 op len:u16 value:u32 data`, where data ends with status bytes (ESP32 and later: 4).
 */
import { createHash } from 'node:crypto';

export const RomCommand = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  CHANGE_BAUDRATE: 0x0f,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
} as const;

export const RomError: Record<number, string> = {
  0x05: 'invalid message',
  0x06: 'failed to act on message',
  0x07: 'invalid CRC (checksum) in message',
  0x08: 'flash write error',
  0x09: 'flash read error',
  0x0a: 'flash read length error',
  0x0b: 'deflate error',
};

export const CHECKSUM_SEED = 0xef;
export const FLASH_SECTOR_SIZE = 0x1000;
export const ROM_FLASH_BLOCK_SIZE = 0x400;
/** Status bytes closing every ESP32-family ROM response: status, error, two reserved. */
export const ROM_STATUS_BYTES = 4;
export const SYNC_PAYLOAD = Buffer.concat([Buffer.from([0x07, 0x07, 0x12, 0x20]), Buffer.alloc(32, 0x55)]);

export interface RomRequest {
  op: number;
  checksum: number;
  data: Buffer;
}

export interface RomResponse {
  op: number;
  value: number;
  data: Buffer;
}

/** The ROM's data checksum: 0xEF xor every byte. */
export function romChecksum(data: Uint8Array): number {
  let state = CHECKSUM_SEED;
  for (const b of data) state ^= b;
  return state;
}

/** A ROM-loader frame: direction (0 request, 1 response), op, data length, a 32-bit word, data. */
function encodeFrame(direction: 0x00 | 0x01, op: number, word: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt8(direction, 0);
  head.writeUInt8(op, 1);
  head.writeUInt16LE(data.length, 2);
  head.writeUInt32LE(word >>> 0, 4);
  return Buffer.concat([head, data]);
}

export function encodeRequest(op: number, data: Buffer = Buffer.alloc(0), checksum = 0): Buffer {
  return encodeFrame(0x00, op, checksum, data);
}

export function decodeRequest(frame: Buffer): RomRequest | undefined {
  if (frame.length < 8 || frame[0] !== 0x00) return undefined;
  const len = frame.readUInt16LE(2);
  const data = frame.subarray(8);
  if (data.length !== len) return undefined;
  return { op: frame[1] as number, checksum: frame.readUInt32LE(4), data };
}

export function encodeResponse(op: number, value: number, data: Buffer): Buffer {
  return encodeFrame(0x01, op, value, data);
}

export function decodeResponse(frame: Buffer): RomResponse | undefined {
  if (frame.length < 8 || frame[0] !== 0x01) return undefined;
  return { op: frame[1] as number, value: frame.readUInt32LE(4), data: frame.subarray(8) };
}

export function statusBytes(error?: number): Buffer {
  return Buffer.from(error === undefined ? [0, 0, 0, 0] : [1, error, 0, 0]);
}

export function flashBeginPayload(o: { eraseSize: number; blocks: number; blockSize: number; offset: number }): Buffer {
  const p = Buffer.alloc(20);
  p.writeUInt32LE(o.eraseSize, 0);
  p.writeUInt32LE(o.blocks, 4);
  p.writeUInt32LE(o.blockSize, 8);
  p.writeUInt32LE(o.offset, 12);
  p.writeUInt32LE(0, 16); // not encrypted (ESP32-S2 and later take this fifth word)
  return p;
}

export function flashDataPayload(seq: number, block: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(block.length, 0);
  head.writeUInt32LE(seq, 4);
  return Buffer.concat([head, block]);
}

export function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
