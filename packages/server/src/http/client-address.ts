import { isIPv4, isIPv6 } from 'node:net';

/**
 * How clients are told apart for rate limiting.
 */
export interface ClientKeyOptions {
  /** identify clients by the last `X-Forwarded-For` address (the one a trusted proxy added) */
  trustProxy: boolean;
  /** IPv6 clients are counted by this prefix length (64: one /64, which one host usually holds whole) */
  ipv6PrefixBits: number;
}

/** Expands an IPv6 address into its eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The rate-limit key for a client address: an IPv4 address as it is; an IPv6 address cut to
 * its first `ipv6PrefixBits` bits (so a client rotating through its /64 is still one client);
 * an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as its IPv4 address.
 *
 * @param address - the peer or forwarded address
 * @param ipv6PrefixBits - prefix length for IPv6 (0–128)
 * @returns the key
 */
export function clientKey(address: string, ipv6PrefixBits: number): string {
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  let bits = ipv6PrefixBits;
  const kept = groups.map((g) => {
    const take = Math.max(0, Math.min(16, bits));
    bits -= take;
    return take === 0 ? 0 : g & (0xffff << (16 - take)) & 0xffff;
  });
  return `${kept.map((g) => g.toString(16)).join(':')}/${ipv6PrefixBits}`;
}
