import type { DeviceStatusView } from './device-views';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The devices' queue length, success rate and mean time to upload in the Prometheus text format. */
export function devicesToPrometheus(devices: DeviceStatusView[]): string {
  const families: Array<{
    name: string;
    help: string;
    type: 'gauge' | 'counter';
    value(d: DeviceStatusView): Array<[string, number | null]>;
  }> = [
    {
      name: 'device_upload_queue_length',
      help: 'Actions waiting for the device (task queue backlog and session queue).',
      type: 'gauge',
      value: (d) => [['', d.queue.length]],
    },
    {
      name: 'device_task_queue_backlog',
      help: 'Approximate backlog of the device task queue.',
      type: 'gauge',
      value: (d) => [['', d.queue.taskQueueBacklog]],
    },
    {
      name: 'device_worker_pollers',
      help: 'Device workers polling the device task queue.',
      type: 'gauge',
      value: (d) => [['', d.queue.pollers]],
    },
    {
      name: 'device_uploads_total',
      help: 'Uploads to the device by result.',
      type: 'counter',
      value: (d) => [
        ['result="completed"', d.metrics.succeeded],
        ['result="failed"', d.metrics.failed],
        ['result="skipped"', d.metrics.skipped],
      ],
    },
    {
      name: 'device_upload_success_ratio',
      help: 'Share of uploads that completed.',
      type: 'gauge',
      value: (d) => [['', d.metrics.successRate]],
    },
    {
      name: 'device_upload_mean_seconds',
      help: 'Mean time to upload (successful uploads).',
      type: 'gauge',
      value: (d) => [['', d.metrics.meanTimeToUploadMs === null ? null : d.metrics.meanTimeToUploadMs / 1000]],
    },
  ];
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const d of devices) {
      for (const [extra, v] of f.value(d)) {
        if (v === null) continue;
        lines.push(`${f.name}{device="${esc(d.id)}"${extra ? `,${extra}` : ''}} ${v}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
