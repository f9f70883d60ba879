import { lookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where a webhook may not go (SSRF): loopback, private, shared, link-local (cloud metadata at
 * 169.254.169.254), multicast and reserved ranges, IPv4 and IPv6 (RFC 6890's special-purpose registries).
 */
const refused = new BlockList();
for (const [network, prefix] of [
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
] as const) {
  refused.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  refused.addSubnet(network, prefix, 'ipv6');
}

/** Whether an address is on the public internet. IPv4-mapped IPv6 (::ffff:10.0.0.1) counts as its IPv4. */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return !refused.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return false;
  return !refused.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
  readonly code = 'refused_address';
}

/** The address refused, in words safe to show the endpoint's owner. */
const refusal = (host: string, address: string) =>
  new RefusedAddressError(`${host} resolves to ${address}, a loopback, private or link-local address`);

/** Every address `host` resolves to; refuses the lot if one is not public (unless private networks are allowed). */
export async function checkHost(host: string, allowPrivate: boolean): Promise<void> {
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses =
    isIP(bare) !== 0
      ? [bare]
      : await new Promise<string[]>((resolve, reject) =>
          lookup(bare, { all: true }, (error, found) =>
            error ? reject(error) : resolve(found.map((entry) => entry.address)),
          ),
        );
  if (allowPrivate) return;
  const bad = addresses.find((address) => !isPublicAddress(address));
  if (bad !== undefined) throw refusal(bare, bad);
}

/**
 * A DNS lookup for the HTTP client that refuses non-public answers: the check is made on the very
 * address the connection goes to, so a name that resolved to a public address at registration and
 * to 127.0.0.1 now (DNS rebinding) is refused at delivery.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, found) => {
      if (error) return (callback as (error: Error) => void)(error);
      const bad = found.find((entry) => !isPublicAddress(entry.address));
      if (bad && !allowPrivate) return (callback as (error: Error) => void)(refusal(hostname, bad.address));
      if (options.all) return (callback as (error: null, addresses: typeof found) => void)(null, found);
      const first = found[0];
      if (!first) return (callback as (error: Error) => void)(new Error(`${hostname} has no address`));
      callback(null, first.address, first.family);
    });
  };
}
