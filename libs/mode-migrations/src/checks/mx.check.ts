import type { CheckResult } from '../migration-step.types';
import type { MigrationDnsResolve } from '../mode-migrations.options';

/** Host names compare lower-case without the root dot. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

export interface MxAnswer {
  domain: string;
  exchanges: string[];
  /** A DNS failure that is not an answer (timeout, SERVFAIL): the check cannot decide. */
  error?: string;
}

/** MX exchanges of a domain, sorted by preference; NXDOMAIN / NODATA are an empty answer. */
export async function lookupMx(resolveDns: MigrationDnsResolve, domain: string): Promise<MxAnswer> {
  try {
    const records = (await resolveDns(domain, 'MX')) as Array<{ exchange?: unknown; priority?: unknown }>;
    const exchanges = records
      .filter((record) => typeof record?.exchange === 'string')
      .sort((a, b) => Number(a.priority ?? 0) - Number(b.priority ?? 0))
      .map((record) => normalizeHost(record.exchange as string));
    return { domain, exchanges };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      return { domain, exchanges: [] };
    }
    return { domain, exchanges: [], error: code ?? (error as Error).message };
  }
}

/**
 * Checks every domain's MX records against Mailwarden's MX host: `points-here` passes when each domain's MX names
 * the host (gateway set up), `points-away` when each domain has MX records and none names it (gateway removed).
 */
export async function checkMx(
  resolveDns: MigrationDnsResolve,
  domains: readonly string[],
  mxHost: string,
  expectation: 'points-here' | 'points-away',
): Promise<CheckResult> {
  const host = normalizeHost(mxHost);
  const answers = await Promise.all(domains.map((domain) => lookupMx(resolveDns, domain)));
  const failing = answers.filter((answer) => {
    if (answer.error) {
      return true;
    }
    const named = answer.exchanges.includes(host);
    return expectation === 'points-here' ? !named : named || answer.exchanges.length === 0;
  });
  const passed = failing.length === 0;
  const wanted = expectation === 'points-here' ? `MX records naming ${host}` : `MX records that no longer name ${host}`;
  return {
    passed,
    available: true,
    message: passed
      ? `every domain has ${wanted}`
      : `waiting for ${wanted}: ${failing.map((answer) => `${answer.domain} (${answer.error ? `lookup failed: ${answer.error}` : answer.exchanges.join(', ') || 'no MX records'})`).join('; ')}`,
    evidence: { check: 'mx', mxHost: host, expectation, answers: answers.map((answer) => ({ ...answer, error: answer.error ?? null })) },
  };
}
