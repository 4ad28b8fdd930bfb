import { BlockList, isIP } from 'node:net';
import { normalizeClientIp } from '@mailwarden/smtp';

export interface ConnectorSettings {
  /** CIDR ranges or single addresses the tenant's Microsoft 365 outbound connector sends from. */
  sourceIps: readonly string[];
  /** Subject CN or DNS SAN of the TLS client certificate the connector presents. */
  tlsCertName?: string | null;
}

export interface ConnectionIdentity {
  clientIp: string;
  /** Names of the TLS client certificate (CN and DNS SANs), only when the chain verified. */
  tlsCertNames: readonly string[];
}

/** Parses `192.0.2.0/24`, `2001:db8::/32` or a single address into a BlockList; invalid entries are skipped. */
export function buildBlockList(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) {
    const [address, prefix] = range.trim().split('/');
    const family = isIP(address ?? '');
    if (!address || family === 0) {
      continue;
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) {
      list.addAddress(address, type);
    } else if (/^\d+$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32)) {
      list.addSubnet(address, Number(prefix), type);
    }
  }
  return list;
}

export function ipInRanges(ip: string, ranges: readonly string[]): boolean {
  const address = normalizeClientIp(ip);
  const family = isIP(address);
  if (family === 0) {
    return false;
  }
  return buildBlockList(ranges).check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** A certificate name matches exactly, or through one leading `*.` label (RFC 6125 6.4.3). */
function certNameMatches(presented: string, expected: string): boolean {
  const a = presented.toLowerCase().replace(/\.$/, '');
  const b = expected.toLowerCase().replace(/\.$/, '');
  if (a === b) {
    return true;
  }
  return a.startsWith('*.') && b.slice(b.indexOf('.') + 1) === a.slice(2) && b.indexOf('.') > 0;
}

/**
 * Whether a connection comes from the tenant's Microsoft 365 outbound connector: its address is in one of the
 * configured ranges, or it presented a verified TLS client certificate with the configured name. A connector
 * with neither configured matches nothing (mailflow is then refused rather than open to anyone).
 */
export function matchesConnector(identity: ConnectionIdentity, connector: ConnectorSettings | null | undefined): boolean {
  if (!connector) {
    return false;
  }
  if (connector.sourceIps.length > 0 && ipInRanges(identity.clientIp, connector.sourceIps)) {
    return true;
  }
  const expected = connector.tlsCertName?.trim();
  return !!expected && identity.tlsCertNames.some((name) => certNameMatches(name, expected));
}
