import { DnsError, DnsResolveFunction } from './dns-resolver';

/**
 * A static DNS zone: owner name → record type → answers. TXT answers are a string or an array of
 * character-strings (one TXT record); `{ "error": "ETIMEOUT" }` in place of a type's answers makes
 * that lookup fail with the code. The shape of `*.dns.json` fixtures.
 */
export type DnsZone = Record<string, Record<string, unknown[] | { error: string }>>;

/**
 * Answers from a fixed zone, the way mailauth's own tests do (test/helpers/dns-zone.js): a name not
 * in the zone is NXDOMAIN (ENOTFOUND), a name without the asked type is NODATA (ENODATA). Every
 * query is logged in `calls` as "TYPE name". For tests and conformance replays; no network.
 */
export class ZoneDnsResolver {
  readonly calls: string[] = [];
  private readonly zone = new Map<string, Map<string, unknown[] | { error: string }>>();

  constructor(zone: DnsZone) {
    for (const [name, types] of Object.entries(zone)) {
      const byType = new Map<string, unknown[] | { error: string }>();
      for (const [type, answers] of Object.entries(types)) {
        byType.set(type.toUpperCase(), answers);
      }
      this.zone.set(normalise(name), byType);
    }
  }

  readonly resolve: DnsResolveFunction = async (name, rrtype = 'A') => {
    const type = String(rrtype).toUpperCase();
    this.calls.push(`${type} ${name}`);
    const byType = this.zone.get(normalise(name));
    if (!byType) {
      throw new DnsError('ENOTFOUND', name, type);
    }
    const answers = byType.get(type);
    if (answers === undefined) {
      throw new DnsError('ENODATA', name, type);
    }
    if (!Array.isArray(answers)) {
      throw new DnsError(answers.error, name, type);
    }
    if (!answers.length) {
      throw new DnsError('ENODATA', name, type);
    }
    // node:dns answers TXT as string[][] (character-strings of each record)
    return type === 'TXT' ? answers.map((answer) => (Array.isArray(answer) ? answer.map(String) : [String(answer)])) : answers.slice();
  };
}

function normalise(name: string): string {
  return String(name).trim().toLowerCase().replace(/\.$/, '');
}
