/**
 * The host side of the ESP32 ROM serial loader: SYNC, SPI attach, FLASH_BEGIN/DATA/END and the
 * MD5 check, over a SerialLink. No stub is uploaded; this is what the ROM understands by itself.
 */
import { LinkTimeout, offline, uploadFailed } from './errors';
import {
  decodeResponse,
  encodeRequest,
  flashBeginPayload,
  flashDataPayload,
  romChecksum,
  RomCommand,
  RomError,
  SYNC_PAYLOAD,
  u32s,
  type RomResponse,
} from './rom-protocol';
import type { SerialLink } from './serial-link';
import { slipEncode } from './slip';

const SYNC_TIMEOUT_MS = 200;
const ERASE_MS_PER_MB = 30_000;
const MD5_MS_PER_MB = 8_000;

export class RomCommandError extends Error {
  constructor(
    readonly op: number,
    readonly code: number,
  ) {
    super(`ROM rejected command 0x${op.toString(16)}: ${RomError[code] ?? `error 0x${code.toString(16)}`}`);
  }
}

export class EspRomClient {
  constructor(
    private readonly link: SerialLink,
    private readonly commandTimeoutMs = 3000,
  ) {}

  /** Sends a request and waits for its response; replies to other commands (extra SYNC echoes) are skipped. */
  async command(
    op: number,
    data: Buffer,
    checksum = 0,
    timeoutMs = this.commandTimeoutMs,
    dataBytes = 0,
  ): Promise<RomResponse> {
    await this.link.write(slipEncode(encodeRequest(op, data, checksum)));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await this.link.nextFrame(Math.max(1, deadline - Date.now()));
      const res = decodeResponse(frame);
      if (!res || res.op !== op) continue;
      const status = res.data.subarray(dataBytes, dataBytes + 2);
      if (status.length < 2) throw uploadFailed(`short response to command 0x${op.toString(16)}`);
      if (status[0] !== 0) throw new RomCommandError(op, status[1] as number);
      return res;
    }
  }

  /** Establishes contact (and lets the ROM auto-detect the baud rate); offline if it never answers. */
  async sync(attempts: number): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      try {
        await this.command(RomCommand.SYNC, SYNC_PAYLOAD, 0, SYNC_TIMEOUT_MS);
        return;
      } catch (err) {
        if (!(err instanceof LinkTimeout)) throw err;
      }
    }
    throw offline(
      `board on ${this.link.path} did not answer SYNC ${attempts} times (not in download mode, or not connected)`,
    );
  }

  async spiAttach(): Promise<void> {
    await this.command(RomCommand.SPI_ATTACH, u32s(0, 0));
  }

  async setFlashSize(bytes: number): Promise<void> {
    // id, total size, block, sector, page, status mask: the layout the ROM's flashchip struct uses.
    await this.command(RomCommand.SPI_SET_PARAMS, u32s(0, bytes, 64 * 1024, 4 * 1024, 256, 0xffff));
  }

  async flashBegin(o: { size: number; offset: number; blockSize: number }): Promise<number> {
    const blocks = Math.ceil(o.size / o.blockSize);
    const timeout = Math.max(this.commandTimeoutMs, Math.ceil((ERASE_MS_PER_MB * o.size) / (1024 * 1024)));
    await this.command(
      RomCommand.FLASH_BEGIN,
      flashBeginPayload({ eraseSize: o.size, blocks, blockSize: o.blockSize, offset: o.offset }),
      0,
      timeout,
    );
    return blocks;
  }

  async flashData(seq: number, block: Buffer): Promise<void> {
    await this.command(RomCommand.FLASH_DATA, flashDataPayload(seq, block), romChecksum(block));
  }

  /** The ROM answers with 32 hex digits (the stub would send 16 raw bytes). */
  async flashMd5(offset: number, size: number): Promise<string> {
    const timeout = Math.max(this.commandTimeoutMs, Math.ceil((MD5_MS_PER_MB * size) / (1024 * 1024)));
    const res = await this.command(RomCommand.SPI_FLASH_MD5, u32s(offset, size, 0, 0), 0, timeout, 32);
    return res.data.subarray(0, 32).toString('ascii').toLowerCase();
  }

  /** Leaves the loader; `reboot` runs the new firmware. */
  async flashEnd(reboot: boolean): Promise<void> {
    await this.command(RomCommand.FLASH_END, u32s(reboot ? 0 : 1));
  }
}
