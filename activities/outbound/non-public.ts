/**
 * Addresses the `http` activity does not reach unless HTTP_ALLOWED_HOSTS names them: loopback,
 * private, link-local, shared (CGNAT), documentation, multicast and reserved ranges, and the
 * IPv6 forms that carry an IPv4 address inside (mapped, NAT64, 6to4, Teredo), which could
 * otherwise smuggle a private IPv4 address past the check.
 */
import { BlockList, isIP } from 'node:net';

const IPV4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const;

const IPV6 = [
  ['::', 96], // unspecified, loopback ::1 and the old IPv4-compatible form
  ['::ffff:0:0', 96], // IPv4-mapped
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 32], // Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const;

// Two lists: a BlockList checks IPv4 addresses against IPv6 rules too (as if mapped), so one
// list holding ::ffff:0:0/96 would refuse every IPv4 address.
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [net, prefix] of IPV4) blockedV4.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of IPV6) blockedV6.addSubnet(net, prefix, 'ipv6');

/** True for an address on the public internet; false for the ranges above and for non-addresses. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return family === 4 ? !blockedV4.check(address, 'ipv4') : !blockedV6.check(address, 'ipv6');
}
