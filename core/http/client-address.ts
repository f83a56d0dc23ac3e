import { BlockList, isIP } from 'node:net';

/** `http.trustProxy`: false, true (the direct peer is the proxy), or the proxies' addresses and CIDR ranges. */
export type TrustProxy = boolean | string[];

const plain = (address: string): string => address.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/** Checks one trustProxy entry; the message names what is wrong (config errors name the key). */
export function proxyEntryProblem(entry: string): string | null {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return `"${entry}" is not an address or CIDR range like 10.0.0.0/8`;
  if (prefix !== undefined) {
    const n = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || n > (family === 4 ? 32 : 128)) return `"${entry}" has a bad prefix length`;
  }
  return null;
}

/**
 * Who sent a request. X-Forwarded-For is a list each proxy appends to, so
 * only its right-hand end is written by proxies we trust: walk it from the
 * right past trusted proxies, and the first address that is not one is the
 * client. The left-most entry is whatever the client chose to send.
 */
export function clientAddressOf(trust: TrustProxy): (remoteAddress: string, forwardedFor: unknown) => string {
  if (trust === false) return (remote) => plain(remote);
  let trusted: (address: string) => boolean;
  if (trust === true) {
    trusted = () => false;
  } else {
    const list = new BlockList();
    for (const entry of trust) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
    }
    trusted = (address) => {
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    };
  }
  return (remote, forwardedFor) => {
    const peer = plain(remote);
    // Only a trusted proxy's header means anything; with `true` the peer is the proxy by definition.
    if (trust !== true && !trusted(peer)) return peer;
    const hops = typeof forwardedFor === 'string' ? forwardedFor.split(',').map(plain).filter(Boolean) : [];
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (!isIP(hop)) return peer; // a garbled header: trust none of it
      if (!trusted(hop)) return hop;
    }
    return hops[0] ?? peer;
  };
}
