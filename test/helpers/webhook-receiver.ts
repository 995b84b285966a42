/**
 * A real HTTP server on loopback (a port the OS picks) standing in for a webhook receiver. It
 * answers each webhook-id's first `failFirst` requests with 503 and later ones with 200, keeps
 * every request it got (headers and raw body), and counts the ones it accepted per webhook-id,
 * so a test sees duplicates instead of having them deduplicated away.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  webhookId: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  answered: number;
}

export interface ReceiverOptions {
  /** Requests per webhook-id answered 503 before the first 200 (default 0). */
  failFirst?: number;
  /** Overrides the status for a path (e.g. `/gone` → 410). */
  statusFor?: (path: string) => number | undefined;
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly seen = new Map<string, number>();
  private readonly server: Server;
  port = 0;

  private constructor(private readonly options: ReceiverOptions) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.answer(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'));
        res.statusCode = status;
        if (status >= 300 && status < 400) res.setHeader('location', '/hook');
        res.end(status === 200 ? 'ok' : 'not now');
      });
    });
  }

  static async start(options: ReceiverOptions = {}): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(options);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.port = (receiver.server.address() as AddressInfo).port;
    return receiver;
  }

  private answer(path: string, headers: IncomingHttpHeaders, body: string): number {
    const webhookId = String(headers['webhook-id'] ?? '');
    const nth = (this.seen.get(webhookId) ?? 0) + 1;
    this.seen.set(webhookId, nth);
    const status = this.options.statusFor?.(path) ?? (nth <= (this.options.failFirst ?? 0) ? 503 : 200);
    this.requests.push({ webhookId, headers, body, answered: status });
    return status;
  }

  /** `127.0.0.1:<port>`: the WEBHOOK_ALLOWED_HOSTS entry that lets deliveries reach it. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  url(path = '/hook'): string {
    return `http://${this.host}${path}`;
  }

  /** Accepted (200) requests per webhook-id. */
  acceptedCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.requests) if (r.answered === 200) counts.set(r.webhookId, (counts.get(r.webhookId) ?? 0) + 1);
    return counts;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
