/**
 * HTTP_ALLOWED_HOSTS: which hosts and ports the `http` activity may reach. An entry is a host
 * name or IP address, bare (ports 80 and 443 only) or with one port (`host:8080`, `[::1]:8080`).
 * A name entry never lets a request reach a non-public address: that takes an entry naming the
 * address itself (see non-public.ts).
 */
import { isIP } from 'node:net';

export interface AllowEntry {
  /** Canonical: lower case, no trailing dot, IPv6 without brackets. */
  host: string;
  /** Absent: 80 and 443. */
  port?: number;
  isAddress: boolean;
}

/** Lower case, no trailing dot, IPv4 shorthand and IPv6 in their canonical form, no brackets. */
export function canonicalHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const hostname = new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname;
  return hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** Parses one entry; throws an Error saying what is wrong with it. */
export function parseAllowEntry(raw: string): AllowEntry {
  const text = raw.trim();
  const bad = (why: string) => new Error(`"${raw}" ${why}; write host, host:port, an IP address or [IPv6]:port`);
  if (!text || /[/@*?#\s]/.test(text)) throw bad('is not a host');
  let host = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) [, host = '', portText] = bracketed;
  else if ((text.match(/:/g) ?? []).length === 1) [host = '', portText] = text.split(':');
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw bad(`has a bad port "${portText}"`);
  }
  if (bracketed && isIP(host) !== 6) throw bad('has brackets around something that is not an IPv6 address');
  let canonical: string;
  try {
    canonical = canonicalHost(host);
  } catch {
    throw bad('is not a host');
  }
  return { host: canonical, port, isAddress: isIP(canonical) !== 0 };
}

const portAllowed = (entry: AllowEntry, port: number) =>
  entry.port === undefined ? port === 80 || port === 443 : entry.port === port;

export class AllowList {
  readonly entries: readonly AllowEntry[];

  constructor(readonly raw: readonly string[]) {
    this.entries = raw.map(parseAllowEntry);
  }

  /** Whether an entry names this host (name or address) with this port. */
  allowsHost(host: string, port: number): boolean {
    const h = canonicalHost(host);
    return this.entries.some((e) => e.host === h && portAllowed(e, port));
  }

  /** Whether an address entry names this address with this port (needed for a non-public address). */
  namesAddress(address: string, port: number): boolean {
    const a = canonicalHost(address);
    return this.entries.some((e) => e.isAddress && e.host === a && portAllowed(e, port));
  }

  toString(): string {
    return this.raw.join(', ') || 'empty';
  }
}
