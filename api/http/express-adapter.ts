import http from 'node:http';
import { ExpressAdapter } from '@nestjs/platform-express';

/**
 * Room for the request line and headers. Node's default (16 KiB) is less than a valid request may
 * need: a workflow id and a step path of up to 1,000 characters each, percent-encoded at up to 12
 * bytes per character, would be answered 431 with an empty body by Node itself.
 */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Nest's express adapter, serving on an HTTP server with MAX_HEADER_BYTES. */
export class ApiExpressAdapter extends ExpressAdapter {
  override initHttpServer(): void {
    this.httpServer = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, this.getInstance());
  }
}
