import { isIP } from 'node:net';
import { parseHeaderBlock, type HeaderBlock } from './mime/header-block';

/** The hop where the original message entered the tenant's mail provider: its client IP and HELO name. */
export interface OriginHop {
  clientIp: string;
  helo: string | null;
  /** The Received field it was read from, for the evidence. */
  received: string;
}

// The inbound edges of the journaling providers: the hop whose `by` names one of them received the message
// from the sending organisation. Exchange Online Protection: *.mail.protection.outlook.com (also
// *.protection.outlook.com in older headers); Gmail / Google Workspace: mx.google.com.
const PROVIDER_EDGE = /(^|\.)(protection\.outlook\.com|mx\.google\.com)$/i;

// RFC 5321 4.4 Time-stamp-line: "from" Extended-Domain [ "(" TCP-info ")" ] "by" Domain ...
const FROM_CLAUSE = /^\s*from\s+(\S+)\s*(\([^)]*\))?/i;
const BY_CLAUSE = /\sby\s+([^\s;()]+)/i;
const IP_IN_INFO = /\[?(?:IPv6:)?([0-9a-f:.]+)\]?/gi;

function isPrivate(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || a === 0;
  }
  const lower = ip.toLowerCase();
  return lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80');
}

function ipFromInfo(info: string | undefined, host: string): string | null {
  const candidates = [...(info ?? '').matchAll(IP_IN_INFO)].map((match) => match[1]!).filter((value) => isIP(value) !== 0);
  // Some MTAs write the address as the from-domain itself: "from [192.0.2.1]".
  const hostIp = host.replace(/^\[|\]$/g, '').replace(/^IPv6:/i, '');
  if (isIP(hostIp) !== 0) {
    candidates.push(hostIp);
  }
  return candidates[0] ?? null;
}

/**
 * Finds where a journaled message entered the provider (Microsoft 365 or Google), reading the Received fields
 * newest first: the first one written by the provider's inbound edge names the sending client. A journal copy
 * reaches Mailwarden from the provider, so the SMTP client of the journal session says nothing about the
 * sender; SPF must be evaluated against this hop instead. Null when no such hop exists (internal mail, or a
 * message that never crossed the provider's edge): the caller then cannot evaluate SPF.
 */
export function findOriginHop(raw: Buffer, headers: HeaderBlock = parseHeaderBlock(raw)): OriginHop | null {
  for (const field of headers.fields) {
    if (field.name.toLowerCase() !== 'received') {
      continue;
    }
    const value = field.value.replace(/\s+/g, ' ');
    const by = BY_CLAUSE.exec(value)?.[1];
    const from = FROM_CLAUSE.exec(value);
    if (!by || !from || !PROVIDER_EDGE.test(by)) {
      continue;
    }
    const ip = ipFromInfo(from[2], from[1]!);
    if (!ip || isPrivate(ip) || PROVIDER_EDGE.test(from[1]!) || /\.outlook\.com$/i.test(from[1]!)) {
      continue; // a hop inside the provider
    }
    const helo = from[1]!.startsWith('[') ? null : from[1]!;
    return { clientIp: ip, helo, received: value.trim() };
  }
  return null;
}
