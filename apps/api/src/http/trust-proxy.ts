import { BlockList, isIPv4 } from 'node:net';

/** `TRUST_PROXY` as config.ts reads it: Express's boolean, hop count, or list of names and ranges. */
export type TrustProxySetting = boolean | number | string[];

/** Express's `trust proxy` as a function: is the address at this hop a proxy to believe? */
export type TrustProxyFn = (address: string, hop: number) => boolean;

// The ranges Express's (proxy-addr's) names stand for.
const NAMED_RANGES: Readonly<Record<string, readonly [string, number, 'ipv4' | 'ipv6'][]>> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIPv4(address) ? 'ipv4' : 'ipv6';
}

// A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
function unmapped(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return v4 ?? address;
}

function contains(list: BlockList, address: string): boolean {
  const plain = unmapped(address);
  try {
    return list.check(plain, familyOf(plain));
  } catch {
    return false; // not an IP address at all (a forged header can hold anything)
  }
}

/**
 * Compiles `TRUST_PROXY` into what Express's `trust proxy` takes, so that `req.ip` — the login
 * rate limit's key — is the client the proxy saw, and a client cannot choose its own key:
 *
 * - `true` and a hop count keep Express's meaning.
 * - An address or CIDR range names proxies: a hop from one is believed wherever it sits in the
 *   chain (a CDN in front of nginx, say).
 * - `loopback`, `linklocal` and `uniquelocal` name whole networks, clients as well as proxies:
 *   only the peer the API itself talks to is believed for them. Express would also believe the
 *   next hop when it falls in the same network, and with `uniquelocal` any LAN client behind
 *   nginx could then forge `X-Forwarded-For: <anything>` and draw a fresh rate-limit bucket with
 *   every request.
 */
export function compileTrustProxy(setting: TrustProxySetting): boolean | number | TrustProxyFn {
  if (!Array.isArray(setting)) return setting;
  const anywhere = new BlockList();
  const peerOnly = new BlockList();
  for (const entry of setting) {
    const ranges = NAMED_RANGES[entry];
    if (ranges) {
      for (const [network, bits, family] of ranges) peerOnly.addSubnet(network, bits, family);
      continue;
    }
    const [address = '', bits] = entry.split('/');
    const plain = unmapped(address);
    if (bits === undefined) anywhere.addAddress(plain, familyOf(plain));
    else anywhere.addSubnet(plain, Number(bits), familyOf(plain));
  }
  return (address, hop) =>
    contains(anywhere, address) || (hop === 0 && contains(peerOnly, address));
}
