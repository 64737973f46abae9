/**
 * IP addresses and CIDR networks as bytes, written here rather than taken from a library so that the
 * cidr filter's matching is small, exact and the same for IPv4 and IPv6: an address is 4 or 16 bytes,
 * a network is an address and a prefix length, and a match compares the first `prefix` bits.
 *
 * An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is read as the IPv4 address it carries, so that
 * a dual-stack server's logs match IPv4 networks as Logstash's (Java's) InetAddress reads them.
 */

export interface IpAddress {
  readonly bytes: Uint8Array;
  readonly version: 4 | 6;
}

export interface IpNetwork {
  readonly base: IpAddress;
  readonly prefix: number;
  /** As written in the configuration, for messages. */
  readonly text: string;
}

const MAX_ADDRESS_TEXT = 64;

/** Parses dotted IPv4 or IPv6 text (with an optional `%zone`); null when it is not an address. */
export function parseIp(text: string): IpAddress | null {
  if (text.length === 0 || text.length > MAX_ADDRESS_TEXT) return null;
  if (text.includes(':')) return parseIpv6(text);
  const bytes = parseIpv4Bytes(text);
  return bytes ? { bytes, version: 4 } : null;
}

function parseIpv4Bytes(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    // Leading zeros are refused (as Node does): "010" is 8 to some readers and 10 to others.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

function parseIpv6(input: string): IpAddress | null {
  const zone = input.indexOf('%');
  // A zone names an interface (`%eth0`, `%3`); anything else after "%" is not an address.
  if (zone >= 0 && !/^[\w.-]+$/.test(input.slice(zone + 1))) return null;
  const text = zone >= 0 ? input.slice(0, zone) : input;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  // Dotted IPv4 may end the address only: the last group of the tail (or of the whole, without "::").
  const groups = (half: string, last: boolean): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (last && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4Bytes(part);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1], true) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (isV4Mapped(bytes)) return { bytes: bytes.slice(12), version: 4 };
  return { bytes, version: 6 };
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a network of one). */
export function parseNetwork(text: string): IpNetwork | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const base = parseIp(slash >= 0 ? trimmed.slice(0, slash) : trimmed);
  if (!base) return null;
  const width = base.bytes.length * 8;
  let prefix = width;
  if (slash >= 0) {
    const bits = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits)) return null;
    prefix = Number(bits);
    // `::ffff:10.0.0.0/104` names the IPv4 network 10.0.0.0/8.
    if (base.version === 4 && trimmed.slice(0, slash).includes(':')) prefix -= 96;
    if (prefix < 0 || prefix > width) return null;
  }
  return { base, prefix, text: trimmed };
}

export function networkContains(network: IpNetwork, address: IpAddress): boolean {
  if (network.base.version !== address.version) return false;
  const full = network.prefix >> 3;
  for (let i = 0; i < full; i++) if (network.base.bytes[i] !== address.bytes[i]) return false;
  const rest = network.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (network.base.bytes[full] & mask) === (address.bytes[full] & mask);
}

/** The ranges no public GeoIP database knows: private, loopback, link-local, documentation and such. */
const UNROUTABLE = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8', '2001:db8::/32',
].map((text) => parseNetwork(text) as IpNetwork);

export function isUnroutable(address: IpAddress): boolean {
  return UNROUTABLE.some((network) => networkContains(network, address));
}

/** The canonical text of an address (IPv4 dotted; IPv6 as Node prints it), for lookups and the `ip` field. */
export function formatIp(address: IpAddress): string {
  if (address.version === 4) return address.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address.bytes[i] << 8) | address.bytes[i + 1]).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 says.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
