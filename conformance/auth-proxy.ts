/**
 * A loopback reverse proxy that adds the API's bearer token to every request. The conformance
 * suite's server mode cannot send headers (its CLI takes only `--url`), and the API refuses any
 * request without a token, so the suite talks to this proxy and the API keeps its auth on.
 *
 * Everything else passes through untouched, streamed both ways (SSE included). The one rewrite:
 * a Host or Origin naming the proxy itself is replaced by the API's, so a request the suite meant
 * for "the server" arrives as one for the API, while a foreign Host or Origin (the suite's DNS
 * rebinding probes) reaches the API as sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AuthProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export async function startAuthProxy(upstream: string, token: string, port = 0): Promise<AuthProxy> {
  const target = new URL(upstream);
  let self = '';
  const server = http.createServer((req, res) => {
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    if (headers.host === self) headers.host = target.host;
    if (headers.origin === `http://${self}`) headers.origin = target.origin;
    headers.authorization = `Bearer ${token}`;
    const out = http.request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
        // SSE: each event goes on as it comes, so the suite's timing checks see the server's timing.
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`auth proxy: ${err.message}`);
    });
    // The suite hung up (a stream it closed on purpose): close the API's side too.
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  self = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${self}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
