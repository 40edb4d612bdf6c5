import net from 'node:net';

/**
 * Which addresses a webhook may not reach unless CHATPORT_WEBHOOK_ALLOW_PRIVATE: anything that is not
 * a public unicast address, so that a webhook URL cannot make the server call its own network (SSRF).
 * Pure: the sender checks every address a name resolves to, and connects only to a checked one.
 */

/** Cloud instance-metadata endpoints, named as such (most also fall in a range below). */
const metadataAddresses = [
  '169.254.169.254', // AWS, GCP, Azure, DigitalOcean, OpenStack
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (classic)
  'fd00:ec2::254', // AWS, over IPv6
];

/** [network, prefix length, why it is refused]. */
const refusedIpv4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved (IETF protocol assignments)'],
  ['192.0.2.0', 24, 'reserved (documentation)'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved (benchmarking)'],
  ['198.51.100.0', 24, 'reserved (documentation)'],
  ['203.0.113.0', 24, 'reserved (documentation)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (including broadcast)'],
];

const refusedIpv6: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'reserved (IPv4-compatible)'],
  ['64:ff9b:1::', 48, 'reserved (local-use NAT64)'],
  ['100::', 64, 'reserved (discard-only)'],
  ['2001:db8::', 32, 'reserved (documentation)'],
  ['fc00::', 7, 'private (unique local)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private (site-local)'],
  ['ff00::', 8, 'multicast'],
];

interface Rule {
  list: net.BlockList;
  reason: string;
}

function rulesOf(): Rule[] {
  const rules: Rule[] = [];
  const metadata = new net.BlockList();
  for (const address of metadataAddresses)
    metadata.addAddress(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
  rules.push({ list: metadata, reason: 'cloud metadata' });
  for (const [network, prefix, reason] of refusedIpv4) {
    const list = new net.BlockList();
    list.addSubnet(network, prefix, 'ipv4');
    rules.push({ list, reason });
  }
  for (const [network, prefix, reason] of refusedIpv6) {
    const list = new net.BlockList();
    list.addSubnet(network, prefix, 'ipv6');
    rules.push({ list, reason });
  }
  return rules;
}

const rules = rulesOf();

/** The eight 16-bit groups of an IPv6 address (valid per net.isIPv6, without a zone). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const start = parse(head);
  const end = parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - start.length - end.length).fill(0);
  return [...start, ...zeros, ...end];
}

function ipv4Of(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/**
 * The IPv4 address an IPv6 address carries and routes to: IPv4-mapped (`::ffff:a.b.c.d`), NAT64
 * (`64:ff9b::/96`) or 6to4 (`2002:aabb:ccdd::/48`); undefined for any other.
 */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  const zero = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zero(0, 5) && g[5] === 0xffff) return ipv4Of(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return ipv4Of(g[6]!, g[7]!);
  if (g[0] === 0x2002) return ipv4Of(g[1]!, g[2]!);
  return undefined;
}

/**
 * Why `address` (an IPv4 or IPv6 literal, IPv6 possibly with a `%zone`) may not be reached by a
 * webhook, e.g. `loopback`; null when it is a public unicast address. Anything that is not an IP
 * address is refused as such.
 */
export function refusedAddressReason(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net.isIP(bare);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const inner = embeddedIpv4(bare.toLowerCase());
    if (inner !== undefined) {
      const reason = refusedAddressReason(inner);
      if (reason !== null) return reason;
    }
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  for (const rule of rules) if (rule.list.check(bare, type)) return rule.reason;
  return null;
}
