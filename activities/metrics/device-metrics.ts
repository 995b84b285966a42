import type { MetricMeter } from '@temporalio/common';
import { DEVICE_UPLOAD_DURATION_METRIC, DEVICE_UPLOADS_METRIC } from '../../workflows/contracts/metrics';

/**
 * Runs one upload attempt's transfer and records its outcome and duration on the device worker:
 * the per-attempt view (the device's lock keeps the per-upload totals GET /metrics reports).
 */
export async function timedUpload<T>(meter: MetricMeter, device: string, upload: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const record = (result: 'completed' | 'failed') => {
    const tags = { device, result };
    meter
      .createCounter(DEVICE_UPLOADS_METRIC, 'uploads', 'Upload attempts a device worker ran, by result')
      .add(1, tags);
    meter
      .createHistogram(DEVICE_UPLOAD_DURATION_METRIC, 'float', 's', 'Time of each upload attempt, by result')
      .record((performance.now() - started) / 1000, tags);
  };
  try {
    const out = await upload();
    record('completed');
    return out;
  } catch (err) {
    record('failed');
    throw err;
  }
}
