import { DnsError, DnsResolveFunction } from '@mailwarden/sender-checks';

/**
 * In-memory resolvers built from the DNS data of the third-party suites. Each follows the convention
 * of its suite's reference driver (described in /work/shared/conformance/<suite>/README.md).
 */

const norm = (name: string): string => String(name).trim().toLowerCase().replace(/\.$/, '');

/** One zone entry in OpenSPF suite order: a record, or a bare marker such as TIMEOUT. */
type OpenSpfEntry = { bare: string } | { type: string; value: unknown };

/**
 * OpenSPF suite `zonedata` (pyspf testspf.py conventions):
 * - SPF records are copied to TXT when the name has no TXT entry (`TXT: NONE` suppresses the copy);
 * - a bare `TIMEOUT` times out queries whose type has no records listed before it; `TYPE: TIMEOUT`
 *   times out that type; names absent from the zone are NXDOMAIN; CNAMEs are followed (8 hops);
 * - names with an empty label or a label over 63 octets are refused with EBADNAME, as node:dns does.
 */
export function openSpfResolver(zonedata: Record<string, unknown[]> | undefined): DnsResolveFunction {
  const zone = new Map<string, OpenSpfEntry[]>();
  for (const [rawName, records] of Object.entries(zonedata ?? {})) {
    const list: OpenSpfEntry[] = zone.get(norm(rawName)) ?? [];
    let hasTxt = false;
    const copies: OpenSpfEntry[] = [];
    for (const record of records ?? []) {
      if (typeof record === 'string') {
        list.push({ bare: record });
        continue;
      }
      for (const [type, value] of Object.entries(record as Record<string, unknown>)) {
        const t = type.toUpperCase();
        hasTxt ||= t === 'TXT';
        if (value === 'NONE') {
          continue;
        }
        list.push({ type: t, value });
        if (t === 'SPF') {
          copies.push({ type: 'TXT', value });
        }
      }
    }
    if (!hasTxt) {
      list.push(...copies);
    }
    zone.set(norm(rawName), list);
  }

  return async (qname, qtype = 'A') => {
    const type = String(qtype).toUpperCase();
    const name = norm(qname);
    if (!name || name.length > 253 || name.split('.').some((label) => !label.length || label.length > 63)) {
      throw new DnsError('EBADNAME', qname, type);
    }
    const seen = new Set<string>();
    let current = name;
    for (let hop = 0; ; hop++) {
      const entries = zone.get(current);
      if (!entries) {
        throw new DnsError(current.startsWith('error.') ? 'ETIMEOUT' : 'ENOTFOUND', qname, type);
      }
      const answers: unknown[] = [];
      let cname: string | null = null;
      let timedOut = false;
      for (const entry of entries) {
        if ('bare' in entry) {
          if (entry.bare.toUpperCase() === 'TIMEOUT') {
            timedOut = !answers.length && !cname;
            break;
          }
          continue;
        }
        if (entry.value === 'TIMEOUT' && (entry.type === type || entry.type === 'CNAME')) {
          timedOut = true;
          break;
        }
        if (entry.type === type) {
          answers.push(formatAnswer(type, entry.value));
        } else if (entry.type === 'CNAME' && type !== 'CNAME' && !cname) {
          cname = norm(String(entry.value));
        }
      }
      if (timedOut) {
        throw new DnsError('ETIMEOUT', qname, type);
      }
      if (answers.length) {
        return answers;
      }
      if (!cname) {
        throw new DnsError('ENODATA', qname, type);
      }
      seen.add(current);
      if (seen.has(cname) || hop >= 8) {
        throw new DnsError('ESERVFAIL', qname, type);
      }
      current = cname;
    }
  };
}

function formatAnswer(type: string, value: unknown): unknown {
  switch (type) {
    case 'TXT':
    case 'SPF':
      return Array.isArray(value) ? value.map(String) : [String(value)];
    case 'MX': {
      const [priority, exchange] = value as [number, string];
      return { priority: Number(priority), exchange: norm(exchange) };
    }
    case 'A':
      return String(value).trim();
    case 'AAAA':
      return String(value).trim().toLowerCase();
    default:
      return norm(String(value));
  }
}

/** Answer for one name in a TXT-only table: the record text, or a DNS error code. */
export type TxtTableEntry = { txt: string[] } | { error: string };

/**
 * TXT-only table (DKIM key records, DMARC records): names not in the table are NXDOMAIN, other
 * types at a listed name are NODATA.
 */
export function txtTableResolver(table: Map<string, TxtTableEntry>, otherRecords: Record<string, Record<string, unknown[]>> = {}): DnsResolveFunction {
  const others = new Map(Object.entries(otherRecords).map(([name, types]) => [norm(name), types]));
  return async (qname, qtype = 'A') => {
    const type = String(qtype).toUpperCase();
    const name = norm(qname);
    const entry = table.get(name);
    if (entry && 'error' in entry) {
      throw new DnsError(entry.error, qname, type);
    }
    const other = others.get(name);
    if (type === 'TXT' && entry) {
      return entry.txt.map((text) => [text]);
    }
    if (other?.[type]?.length) {
      return other[type].slice();
    }
    if (entry || other) {
      throw new DnsError('ENODATA', qname, type);
    }
    throw new DnsError('ENOTFOUND', qname, type);
  };
}

/** Mail::DKIM FAKE_DNS.dat: `<name> <TXT value>`, `NXDOMAIN`, `~~Query timed out~~`, `~~SERVFAIL~~`. */
export function parseFakeDns(text: string): Map<string, TxtTableEntry> {
  const table = new Map<string, TxtTableEntry>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^(\S+)\s+(.*?)\s*$/.exec(line);
    if (!match || line.startsWith('#')) {
      continue;
    }
    const [, name, value] = match;
    if (value === 'NXDOMAIN') {
      continue; // absent names are NXDOMAIN already
    } else if (value === '~~Query timed out~~') {
      table.set(norm(name), { error: 'ETIMEOUT' });
    } else if (value === '~~SERVFAIL~~') {
      table.set(norm(name), { error: 'ESERVFAIL' });
    } else {
      table.set(norm(name), { txt: [value === '""' ? '' : value] });
    }
  }
  return table;
}

/**
 * stalwart resource files: `<name> <TXT value>` lines, one blank line, then the message (LF line
 * endings, returned with CRLF).
 */
export function splitKeyRecordsAndMessage(text: string): { table: Map<string, TxtTableEntry>; message: Buffer } {
  const normalised = text.replace(/\r\n/g, '\n');
  const split = normalised.indexOf('\n\n');
  if (split < 0) {
    throw new Error('expected key records, a blank line, then the message');
  }
  return { table: parseFakeDns(normalised.slice(0, split)), message: toCrlf(normalised.slice(split + 2)) };
}

/** Converts bare LF line endings to CRLF, as the suites' harnesses do before verifying. */
export function toCrlf(text: string | Buffer): Buffer {
  const source = Buffer.isBuffer(text) ? text.toString('binary') : text;
  return Buffer.from(source.replace(/\r?\n/g, '\r\n'), 'binary');
}

/**
 * authentication_milter `t/zonefile`: RFC 1035-ish lines `name [ttl] [IN] TYPE data`, TXT data in
 * quotes (optionally inside parentheses), and `;ERROR,name,TYPE,CODE` lines for error answers.
 */
export function zonefileResolver(text: string): DnsResolveFunction {
  const records = new Map<string, Map<string, unknown[]>>();
  const errors = new Map<string, string>();
  const add = (name: string, type: string, value: unknown) => {
    const byType = records.get(norm(name)) ?? new Map<string, unknown[]>();
    byType.set(type, [...(byType.get(type) ?? []), value]);
    records.set(norm(name), byType);
  };
  for (const line of text.split(/\r?\n/)) {
    const error = /^;ERROR,([^,]+),([^,]+),(\w+)/.exec(line);
    if (error) {
      errors.set(`${error[2].toUpperCase()} ${norm(error[1])}`, error[3] === 'NXDOMAIN' ? 'ENOTFOUND' : error[3] === 'NODATA' ? 'ENODATA' : `E${error[3]}`);
      continue;
    }
    const row = /^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?(A|AAAA|MX|TXT|PTR|CNAME|NS|SPF)\b\s*(.*)$/.exec(line.trim());
    if (!row || line.startsWith(';')) {
      continue;
    }
    const [, name, type, data] = row;
    if (type === 'TXT' || type === 'SPF') {
      const strings = [...data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
      if (!strings.length) {
        const bare = data.replace(/[()]/g, '').trim();
        if (!bare) {
          continue; // upstream's odd "name TXT" lines carry no data
        }
        strings.push(bare);
      }
      add(name, 'TXT', strings);
    } else if (type === 'MX') {
      const [priority, exchange] = data.trim().split(/\s+/);
      add(name, 'MX', { priority: Number(priority), exchange: norm(exchange) });
    } else {
      add(name, type, type === 'A' || type === 'AAAA' ? data.trim() : norm(data.trim()));
    }
  }
  return async (qname, qtype = 'A') => {
    const type = String(qtype).toUpperCase();
    const name = norm(qname);
    const code = errors.get(`${type} ${name}`);
    if (code) {
      throw new DnsError(code, qname, type);
    }
    let current = name;
    for (let hop = 0; hop < 8; hop++) {
      const byType = records.get(current);
      if (!byType) {
        throw new DnsError('ENOTFOUND', qname, type);
      }
      const answers = byType.get(type);
      if (answers?.length) {
        return answers.slice();
      }
      const cname = byType.get('CNAME')?.[0];
      if (type === 'CNAME' || typeof cname !== 'string') {
        throw new DnsError('ENODATA', qname, type);
      }
      current = cname;
    }
    throw new DnsError('ESERVFAIL', qname, type);
  };
}
