/**
 * The API's Prometheus registry (one per application, so apps in one process never share
 * series): Node's process metrics, the HTTP requests it answered, and the product's figures
 * (runs, approvals, devices), which `scrape` reads from Temporal first.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeviceStatusView } from '../devices/device-views';
import { Cached } from './cached';
import type { RouteTemplates } from './route-templates';
import type { RunFigures } from './run-counts';

export interface ProductSources {
  runs(): Promise<RunFigures>;
  devices(): Promise<DeviceStatusView[]>;
}

interface HttpRequest {
  method: string;
  path: string;
}
interface HttpResponse {
  statusCode: number;
  once(event: 'finish', listener: () => void): unknown;
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request (an event stream: until it closed), by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly runs = this.gauge('agent_runs', 'Spec runs in the visibility store, by spec and status.', [
    'spec',
    'status',
  ]);
  private readonly approvalsPending = this.gauge(
    'agent_approvals_pending',
    'Approvals waiting for a decision, by spec.',
    ['spec'],
  );
  private readonly approvalOldest = this.gauge(
    'agent_approvals_oldest_pending_seconds',
    'Age of the oldest approval waiting for a decision, by spec.',
    ['spec'],
  );
  private readonly approvalsTruncated = this.gauge(
    'agent_approvals_truncated',
    '1 when more runs waited on approvals than one scrape reads (the approval figures are then a lower bound).',
    [],
  );
  private readonly deviceQueue = this.gauge(
    'agent_device_queue_length',
    "Actions waiting for the device: its lock's queue and its task queue backlog.",
    ['device'],
  );
  private readonly deviceUploads = this.gauge(
    'agent_device_uploads',
    "Uploads the device's lock has recorded, by result (completed, failed, skipped).",
    ['device', 'result'],
  );
  private readonly deviceSuccess = this.gauge(
    'agent_device_upload_success_ratio',
    'Share of recorded uploads that completed.',
    ['device'],
  );
  private readonly deviceMeanUpload = this.gauge(
    'agent_device_upload_mean_seconds',
    'Mean time to upload (completed uploads).',
    ['device'],
  );
  private readonly sourceUp = this.gauge(
    'agent_metrics_source_up',
    '1 when the last scrape read the source (visibility, devices), 0 when it failed (its figures are then absent).',
    ['source'],
  );
  private readonly runFigures: Cached<RunFigures>;
  private readonly deviceStatus: Cached<DeviceStatusView[]>;

  constructor(sources: ProductSources, cacheMs: number) {
    collectDefaultMetrics({ register: this.registry });
    this.runFigures = new Cached(cacheMs, () => sources.runs());
    this.deviceStatus = new Cached(cacheMs, () => sources.devices());
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** Express middleware: counts and times every request, labelled by its route template. */
  httpMiddleware(routes: RouteTemplates) {
    return (req: HttpRequest, res: HttpResponse, next: () => void): void => {
      const stop = this.httpDuration.startTimer();
      res.once('finish', () => {
        const route = routes.match(req.path);
        stop({ method: req.method, route });
        this.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    };
  }

  /** The exposition: product figures read first (a source that fails is reported down, never a 5xx). */
  async scrape(): Promise<string> {
    await Promise.all([this.refreshRuns(), this.refreshDevices()]);
    return this.registry.metrics();
  }

  private async refreshRuns(): Promise<void> {
    this.runs.reset();
    this.approvalsPending.reset();
    this.approvalOldest.reset();
    this.approvalsTruncated.reset();
    let figures: RunFigures;
    try {
      figures = await this.runFigures.get();
    } catch {
      this.sourceUp.set({ source: 'visibility' }, 0);
      return;
    }
    this.sourceUp.set({ source: 'visibility' }, 1);
    for (const r of figures.runs) this.runs.set({ spec: r.spec, status: r.status }, r.count);
    for (const a of figures.approvals) {
      this.approvalsPending.set({ spec: a.spec }, a.pending);
      this.approvalOldest.set({ spec: a.spec }, a.oldestAgeSeconds);
    }
    this.approvalsTruncated.set(figures.approvalsTruncated ? 1 : 0);
  }

  private async refreshDevices(): Promise<void> {
    for (const g of [this.deviceQueue, this.deviceUploads, this.deviceSuccess, this.deviceMeanUpload]) g.reset();
    let devices: DeviceStatusView[];
    try {
      devices = await this.deviceStatus.get();
    } catch {
      this.sourceUp.set({ source: 'devices' }, 0);
      return;
    }
    // A device whose lock could not be asked still reports its queue (GET /devices says why).
    this.sourceUp.set({ source: 'devices' }, 1);
    for (const d of devices) {
      const device = { device: d.id };
      this.deviceQueue.set(device, d.queue.length);
      this.deviceUploads.set({ ...device, result: 'completed' }, d.metrics.succeeded);
      this.deviceUploads.set({ ...device, result: 'failed' }, d.metrics.failed);
      this.deviceUploads.set({ ...device, result: 'skipped' }, d.metrics.skipped);
      if (d.metrics.successRate !== null) this.deviceSuccess.set(device, d.metrics.successRate);
      if (d.metrics.meanTimeToUploadMs !== null) this.deviceMeanUpload.set(device, d.metrics.meanTimeToUploadMs / 1000);
    }
  }
}
