import type { UploadProgress } from '../../../workflows/contracts/device';
import type { DeviceConfig } from '../config';

export interface UploadJob {
  device: DeviceConfig;
  artifact: string;
  image: Buffer;
  md5: string;
  /** The previous attempt's last heartbeat, when a worker was lost mid-upload. */
  previous?: UploadProgress;
  progress(p: UploadProgress): void;
  signal: AbortSignal;
}

export interface UploadReport {
  resumedFromBlock?: number;
  bootLine?: string;
}

export type Uploader = (job: UploadJob) => Promise<UploadReport>;
