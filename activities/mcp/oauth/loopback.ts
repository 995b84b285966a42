/**
 * The login's redirect target: an HTTP listener on a loopback address (RFC 8252 §7.3) that takes
 * the authorization code from the browser's redirect. Only a request carrying the expected
 * `state` ends the wait; anything else gets a 400 and is otherwise ignored.
 */
import { createServer, type Server } from 'node:http';

export interface RedirectResult {
  code: string;
}

export interface LoopbackListener {
  /** The URL to register and send as redirect_uri (the real port when it was 0 or absent). */
  redirectUrl: string;
  /**
   * Resolves with the code of the first redirect whose state `stateMatches` (call it before the
   * URL is shown, so an early redirect is not turned away); rejects on an `error` redirect.
   */
  waitForCode(stateMatches: (state: string | null) => boolean, timeoutMs: number): Promise<RedirectResult>;
  close(): Promise<void>;
}

type Waiter = {
  stateMatches: (state: string | null) => boolean;
  resolve: (r: RedirectResult) => void;
  reject: (e: Error) => void;
};

function page(res: import('node:http').ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${text}\n`);
}

/** Listens on `configured` (a loopback http URL; port 0 or none: a free port) or on 127.0.0.1, a free port, /callback. */
export async function listenForRedirect(configured?: string): Promise<LoopbackListener> {
  const want = new URL(configured ?? 'http://127.0.0.1:0/callback');
  const host = want.hostname.replace(/^\[|\]$/g, '');
  const callbackPath = want.pathname || '/callback';
  let waiter: Waiter | undefined;

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (req.method !== 'GET' || url.pathname !== callbackPath) return page(res, 404, 'Not found.');
    const state = url.searchParams.get('state');
    if (!waiter || !waiter.stateMatches(state))
      return page(res, 400, 'This redirect does not belong to the login in progress (unknown state).');
    const current = waiter;
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error) {
      page(res, 400, `Authorization refused: ${error}. You can close this window.`);
      const detail = url.searchParams.get('error_description');
      current.reject(new Error(`the authorization server refused: ${error}${detail ? ` (${detail})` : ''}`));
    } else if (!code) {
      return page(res, 400, 'The redirect carries no authorization code.');
    } else {
      page(res, 200, 'Login complete. You can close this window and return to the terminal.');
      current.resolve({ code });
    }
    waiter = undefined;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(want.port || 0), host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const shownHost = want.hostname; // keeps the brackets of an IPv6 literal
  return {
    redirectUrl: `http://${shownHost}:${port}${callbackPath}`,
    waitForCode(stateMatches, timeoutMs) {
      return new Promise<RedirectResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`no authorization redirect arrived within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        const done =
          <T>(fn: (v: T) => void) =>
          (v: T) => {
            clearTimeout(timer);
            fn(v);
          };
        waiter = { stateMatches, resolve: done(resolve), reject: done(reject) };
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        waiter?.reject(new Error('the login ended before a redirect arrived'));
        waiter = undefined;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
