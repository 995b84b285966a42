/**
 * Uploads over the ESP32 ROM serial loader, verifies the flash MD5, reboots into the new image
 * and waits for its boot line. A retry after a lost worker resumes from the last erase sector
 * the board acknowledged completely (from the previous attempt's heartbeat).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { DeviceFailure, type UploadProgress } from '../../../workflows/contracts/device';
import { waitForBootLine } from '../boot-verify';
import type { EspSerialUploaderConfig } from '../config';
import { EspRomClient, RomCommandError } from '../esp-rom-client';
import { LinkTimeout, uploadFailed } from '../errors';
import { FLASH_SECTOR_SIZE } from '../rom-protocol';
import { SerialLink } from '../serial-link';
import type { UploadJob, UploadReport } from './uploader';

/** First block to send: the start of the last sector the previous attempt fully wrote, if it was this image. */
export function resumeBlock(
  previous: UploadProgress | undefined,
  o: { md5: string; offset: number; blockSize: number; totalBlocks: number },
): number {
  if (!previous || previous.md5 !== o.md5 || previous.offset !== o.offset || previous.blockSize !== o.blockSize)
    return 0;
  const acked = Math.min(previous.ackedBlocks ?? 0, o.totalBlocks);
  const blocksPerSector = FLASH_SECTOR_SIZE / o.blockSize;
  return Math.floor(acked / blocksPerSector) * blocksPerSector;
}

/** DTR/RTS as dev kits wire them to EN and IO0: hold IO0 low through a reset. */
async function enterDownloadMode(link: SerialLink): Promise<void> {
  try {
    await link.setSignals({ dtr: false, rts: true });
    await delay(100);
    await link.setSignals({ dtr: true, rts: false });
    await delay(50);
    await link.setSignals({ dtr: false });
  } catch (err) {
    throw ApplicationFailure.create({
      type: DeviceFailure.UploadFailed,
      message: `cannot pulse DTR/RTS on ${link.path} (${(err as Error).message}); set uploader.reset to "none" if the board enters download mode by itself`,
      nonRetryable: true,
    });
  }
}

export async function uploadEspSerial(job: UploadJob): Promise<UploadReport> {
  const cfg = job.device.uploader as EspSerialUploaderConfig;
  const { image, md5 } = job;
  const bs = cfg.blockSize;
  const offset = cfg.flashOffset;
  const totalBlocks = Math.ceil(image.length / bs);
  const base = { md5, totalBytes: image.length, totalBlocks, blockSize: bs, offset };
  if (offset + image.length > cfg.flashSize)
    throw uploadFailed(
      `image of ${image.length} bytes at 0x${offset.toString(16)} does not fit in ${cfg.flashSize} bytes of flash`,
    );

  const link = await SerialLink.open(job.device.serialPath as string, job.device.baudRate, job.signal);
  try {
    job.progress({ ...base, phase: 'connect', bytesWritten: 0, ackedBlocks: job.previous?.ackedBlocks ?? 0 });
    if (cfg.reset === 'classic') await enterDownloadMode(link);
    const rom = new EspRomClient(link, cfg.commandTimeoutMs);
    await rom.sync(cfg.syncAttempts);
    await rom.spiAttach();
    await rom.setFlashSize(cfg.flashSize);

    const writeFrom = async (first: number) => {
      await rom.flashBegin({ size: image.length - first * bs, offset: offset + first * bs, blockSize: bs });
      for (let b = first; b < totalBlocks; b++) {
        const block = Buffer.alloc(bs, 0xff);
        image.copy(block, 0, b * bs, Math.min((b + 1) * bs, image.length));
        await rom.flashData(b - first, block);
        job.progress({
          ...base,
          phase: 'upload',
          ackedBlocks: b + 1,
          bytesWritten: Math.min((b + 1) * bs, image.length),
        });
      }
    };

    let first = resumeBlock(job.previous, { md5, offset, blockSize: bs, totalBlocks });
    await writeFrom(first);
    let onBoard = await rom.flashMd5(offset, image.length);
    if (onBoard !== md5 && first > 0) {
      // The resumed part was fine but the rest was not what we thought: write it all.
      first = 0;
      await writeFrom(0);
      onBoard = await rom.flashMd5(offset, image.length);
    }
    if (onBoard !== md5) throw uploadFailed(`flash MD5 ${onBoard} does not match the image's ${md5}`);

    job.progress({ ...base, phase: 'verify', ackedBlocks: totalBlocks, bytesWritten: image.length });
    link.markLines();
    await rom.flashEnd(true);
    const bootLine = job.device.verify ? await waitForBootLine(link, job.device.verify) : undefined;
    return { resumedFromBlock: first || undefined, bootLine };
  } catch (err) {
    if (err instanceof LinkTimeout) throw uploadFailed(`${err.message} (${link.path})`);
    if (err instanceof RomCommandError) throw uploadFailed(err.message, { op: err.op, code: err.code });
    throw err;
  } finally {
    await link.close();
  }
}
