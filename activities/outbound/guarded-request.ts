/**
 * One HTTP exchange (no redirects) whose connection can only go where the allow-list lets it:
 * the name is resolved here, every address checked, and the socket connects to exactly the
 * checked addresses, so a second DNS answer (rebinding) cannot change where it goes. The body is
 * counted while it streams in and the connection closed as soon as it passes the cap.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import type { AllowList } from './allow-list';
import { isPublicAddress } from './non-public';

/** Every address a name resolves to; tests pass their own. */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const resolveAll: Resolve = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

export interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  maxBytes: number;
  allowList: AllowList;
  resolve: Resolve;
}

export interface HopResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** Set on a 3xx with a Location header; the body is then not read. */
  location?: string;
  body: Buffer;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

export const effectivePort = (url: URL): number => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/** Refuses an address that is not public unless an entry names it (with this port). */
export function checkAddress(hop: Pick<Hop, 'url' | 'allowList'>, address: string): void {
  const port = effectivePort(hop.url);
  if (isPublicAddress(address) || hop.allowList.namesAddress(address, port)) return;
  throw ApplicationFailure.nonRetryable(
    `http: ${hop.url.href}: "${hop.url.hostname}" is at ${address}, a loopback, private or otherwise non-public ` +
      `address; HTTP_ALLOWED_HOSTS must name that address${port === 80 || port === 443 ? '' : ` with port ${port}`} ` +
      `to reach it (allowed: ${hop.allowList})`,
    'HttpAddressNotAllowed',
  );
}

function guardedLookup(hop: Hop): LookupFunction {
  return (hostname, options, callback) => {
    hop
      .resolve(hostname)
      .then((all) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const addresses = all.filter((a) => wanted === undefined || a.family === wanted);
        if (addresses.length === 0) throw Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
        // Every answer is checked, not only the first: the socket may try any of them.
        for (const a of addresses) checkAddress(hop, a.address);
        if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      })
      .catch((err: NodeJS.ErrnoException) => callback(err, '', 0));
  };
}

function tooLarge(hop: Hop, what: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `http: ${hop.url.href}: the response ${what} the limit of ${hop.maxBytes} bytes (HTTP_MAX_RESPONSE_BYTES or the request's maxBytes)`,
    'HttpResponseTooLarge',
  );
}

/** The decoded body stream; compressed bodies are counted after decompression. */
function decoded(res: IncomingMessage): Readable {
  switch (String(res.headers['content-encoding'] ?? '').toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return res.pipe(createGunzip());
    case 'deflate':
      return res.pipe(createInflate());
    case 'br':
      return res.pipe(createBrotliDecompress());
    default:
      return res;
  }
}

async function readCapped(hop: Hop, res: IncomingMessage): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (!res.headers['content-encoding'] && Number.isFinite(declared) && declared > hop.maxBytes) {
    res.destroy();
    throw tooLarge(hop, `declares ${declared} bytes, over`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = decoded(res);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > hop.maxBytes) throw tooLarge(hop, 'body passed');
      chunks.push(chunk);
    }
  } finally {
    // Closes the connection at once when reading stopped early; a no-op after a complete body.
    res.destroy();
    if (stream !== res) stream.destroy();
  }
  return Buffer.concat(chunks);
}

/** Sends one request; connection failures reject with the socket's error. */
export async function guardedRequest(hop: Hop): Promise<HopResult> {
  const literal = hop.url.hostname.replace(/^\[(.*)\]$/, '$1');
  // An address in the URL is connected to directly, without a lookup: check it here.
  if (isIP(literal)) checkAddress(hop, literal);
  const send = hop.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(hop.url, {
      method: hop.method,
      headers: hop.headers,
      signal: hop.signal,
      lookup: guardedLookup(hop),
      // A connection of its own: a pooled socket could lead anywhere its first lookup went.
      agent: false,
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end(hop.body);
  });
  const location = REDIRECT.has(res.statusCode ?? 0) ? res.headers.location : undefined;
  if (location !== undefined) {
    res.destroy();
    return { status: res.statusCode ?? 0, headers: res.headers, location, body: Buffer.alloc(0) };
  }
  return { status: res.statusCode ?? 0, headers: res.headers, body: await readCapped(hop, res) };
}
