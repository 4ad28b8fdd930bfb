import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { dkimRecordName, dkimSignCopy, generateDkimKey, sealCopy, type ArcSealingKey } from '@mailwarden/delivery';
import {
  authenticateMessage,
  DnsError,
  DnsResolveFunction,
  verifyArc,
  verifyDkim,
  verifyDmarc,
  verifySpf,
} from '@mailwarden/sender-checks';
import { openSpfResolver, parseFakeDns, splitKeyRecordsAndMessage, toCrlf, TxtTableEntry, txtTableResolver, zonefileResolver } from './suite-dns';

/** The outcome of replaying one suite: every scored case id, and the failing ones with why. */
export interface SuiteResult {
  suite: string;
  passed: number;
  total: number;
  failures: { id: string; detail: string }[];
  /** Cases read but deliberately not scored (with the reason), shown after the count. */
  notScored?: string;
}

class Tally {
  readonly result: SuiteResult;
  constructor(suite: string) {
    this.result = { suite, passed: 0, total: 0, failures: [] };
  }
  record(id: string, ok: boolean, detail: string): void {
    this.result.total++;
    if (ok) {
      this.result.passed++;
    } else {
      this.result.failures.push({ id, detail });
    }
  }
}

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8');
const noDns: DnsResolveFunction = async (name, type) => {
  throw new DnsError('ENOTFOUND', name, type);
};

interface OpenSpfCase {
  helo: string;
  host: string;
  mailfrom: string;
  result: string | string[];
}

/** OpenSPF YAML suite (RFC 7208 or RFC 4408 file): scores the `result` of each case. */
export async function runSpfSuite(suite: string, file: string): Promise<SuiteResult> {
  const tally = new Tally(suite);
  const docs = loadAll(readFileSync(file, 'utf8')).filter(Boolean) as { tests?: Record<string, OpenSpfCase>; zonedata?: Record<string, unknown[]> }[];
  for (const doc of docs) {
    const resolver = openSpfResolver(doc.zonedata);
    for (const [id, test] of Object.entries(doc.tests ?? {})) {
      const expected = ([] as string[]).concat(test.result).map((r) => String(r).toLowerCase());
      let got: string;
      try {
        const result = await verifySpf({ clientIp: String(test.host), helo: String(test.helo ?? ''), envelopeSender: String(test.mailfrom ?? '') }, { resolver });
        got = result.status.result;
      } catch (err) {
        got = `exception:${(err as Error).message}`;
      }
      tally.record(id, expected.includes(got), `expected ${expected.join('|')}, got ${got}`);
    }
  }
  return tally.result;
}

/** Mail::DKIM's view of a signature result: pass, fail, invalid (could not be evaluated) or none. */
function mailDkimClass(result: string): 'pass' | 'fail' | 'invalid' | 'none' {
  if (result === 'pass' || result === 'fail' || result === 'none') {
    return result;
  }
  return 'invalid'; // neutral, policy, permerror, temperror
}

/** Mail::DKIM overall result: the best over all signatures (pass > fail > invalid > none). */
function bestResult(results: string[]): 'pass' | 'fail' | 'invalid' | 'none' {
  const classes = results.map(mailDkimClass);
  for (const candidate of ['pass', 'fail', 'invalid'] as const) {
    if (classes.includes(candidate)) {
      return candidate;
    }
  }
  return 'none';
}

/** Mail::DKIM verifier corpus, scored against `expectedModern` (RFC 8301). */
export async function runMailDkimCorpus(dir: string): Promise<SuiteResult> {
  const tally = new Tally('dkim-maildkim');
  const resolver = txtTableResolver(parseFakeDns(read(dir, 'mail-dkim/FAKE_DNS.dat')));
  const expectations = JSON.parse(read(dir, 'mail-dkim/expected.json')) as { cases: { file: string; expectedModern: string }[] };
  for (const test of expectations.cases) {
    const message = toCrlf(readFileSync(path.join(dir, 'mail-dkim', test.file)));
    const dkim = await verifyDkim(message, { resolver });
    const got = bestResult((dkim.results ?? []).map((r) => r.status.result));
    const ok = test.expectedModern === 'non-pass' ? got !== 'pass' : got === test.expectedModern;
    tally.record(test.file, ok, `expected ${test.expectedModern}, got ${got} (${(dkim.results ?? []).map((r) => `${r.status.result}${r.status.comment ? `: ${r.status.comment}` : ''}`).join('; ')})`);
  }
  return tally.result;
}

interface DkimVector {
  id: string;
  file: string;
  dns: Record<string, string>;
  expected: 'pass' | 'none';
  perSignature?: string[];
  verifyTime?: number;
  expectedDetail?: { d?: string };
}

/** dkimpy, stalwart and go-msgauth vectors (dkim/cases.json). */
export async function runDkimVectors(dir: string): Promise<SuiteResult> {
  const tally = new Tally('dkim-vectors');
  const { cases } = JSON.parse(read(dir, 'cases.json')) as { cases: DkimVector[] };
  for (const test of cases) {
    const table = new Map<string, TxtTableEntry>(Object.entries(test.dns ?? {}).map(([name, txt]) => [name.toLowerCase(), { txt: [txt] }]));
    const raw = read(dir, test.file);
    const message = test.file.startsWith('stalwart-mail-auth/') ? splitKeyRecordsAndMessage(raw).message : toCrlf(raw);
    const dkim = await verifyDkim(message, {
      resolver: txtTableResolver(table),
      verificationTime: test.verifyTime ? new Date(test.verifyTime * 1000) : undefined,
    });
    // mailauth reports an unsigned message as one `none` entry
    const results = (dkim.results ?? []).map((r) => r.status.result).filter((r) => r !== 'none');
    let ok: boolean;
    if (test.expected === 'none') {
      ok = results.length === 0;
    } else if (test.perSignature) {
      ok = results.length === test.perSignature.length && results.every((r) => r === 'pass');
    } else {
      ok = results.includes('pass');
    }
    if (ok && test.expectedDetail?.d) {
      ok = (dkim.results ?? []).some((r) => r.status.result === 'pass' && r.signingDomain === test.expectedDetail!.d);
    }
    tally.record(test.id, ok, `expected ${test.expected}, got [${(dkim.results ?? []).map((r) => `${r.status.result}${r.status.comment ? `: ${r.status.comment}` : ''}`).join('; ')}]`);
  }
  return tally.result;
}

/** ValiMail ARC validation suite: chain validation status (cv) per case. */
export async function runArcValidation(dir: string): Promise<SuiteResult> {
  const tally = new Tally('arc-validation');
  // the file repeats the key as_fields_b_head_case; PyYAML (upstream) keeps the last one, so does json mode
  const docs = loadAll(read(dir, 'arc-draft-validation-tests.yml'), { json: true }).filter(Boolean) as {
    tests: Record<string, { message: string; cv: string | null }>;
    'txt-records': Record<string, string>;
  }[];
  for (const doc of docs) {
    const table = new Map<string, TxtTableEntry>(
      Object.entries(doc['txt-records'] ?? {}).map(([name, txt]) => [name.toLowerCase(), { txt: [String(txt).replace(/\s+/g, '')] }]),
    );
    const resolver = txtTableResolver(table);
    for (const [id, test] of Object.entries(doc.tests)) {
      // upstream's harness (and Mail::DKIM's) treat an empty cv as Fail
      const cv = String(test.cv ?? '').trim().toLowerCase();
      const expected = cv === 'pass' || cv === 'none' ? cv : 'fail';
      let got: string;
      try {
        const dkim = await verifyDkim(toCrlf(test.message ?? ''), { resolver });
        const arc = await verifyArc(dkim, { resolver });
        got = arc.status.result + (arc.status.comment ? ` (${arc.status.comment})` : "");
      } catch (err) {
        got = `exception:${(err as Error).message}`;
      }
      const verdict = got.split(' ')[0];
      const normalised = verdict === 'pass' || verdict === 'none' ? verdict : 'fail';
      tally.record(id, normalised === expected, `expected ${expected}, got ${got}`);
    }
  }
  return tally.result;
}

interface DmarcCase {
  id: string;
  kind: 'alignment' | 'policy' | 'from-extraction' | 'policy-discovery' | 'alignment+policy';
  fromDomain?: string;
  fromHeader?: string;
  header?: string;
  record?: { adkim?: string; aspf?: string };
  dns?: Record<string, string[] | { error: string }>;
  otherRecords?: Record<string, Record<string, unknown[]>>;
  authResults?: { method: 'spf' | 'dkim'; result: string; mailfromDomain?: string; helo?: string; d?: string }[];
  expected: { dmarc?: string; policy?: string; policyApplied?: string; spfAligned?: string; dkimAligned?: string; fromDomain?: string | null };
  note?: string;
}

/** DMARC cases transcribed from maddy and stalwart (dmarc/cases.json); implementation choices are not scored. */
export async function runDmarcCases(dir: string): Promise<SuiteResult> {
  const tally = new Tally('dmarc-cases');
  const { cases } = JSON.parse(read(dir, 'cases.json')) as { cases: DmarcCase[] };
  let skipped = 0;
  for (const test of cases) {
    // README: "implementation choices" (incl. "no SPF/DKIM result supplied => none") are scored separately or not at all
    if (/implementation choice/i.test(test.note ?? '') || (test.kind === 'alignment' && !test.authResults?.length)) {
      skipped++;
      continue;
    }
    if (test.kind === 'from-extraction') {
      const dkim = await verifyDkim(toCrlf(`${test.header}\r\nSubject: x\r\n\r\nbody\r\n`), { resolver: noDns });
      const { dmarc } = await verifyDmarc({ headerFrom: dkim.headerFrom ?? [], fromFields: dkim.fromFields, spfDomains: [], dkimDomains: [], resolver: noDns });
      const got = dmarc ? (dmarc.status.header?.from ?? null) : null;
      tally.record(test.id, got === test.expected.fromDomain, `expected ${test.expected.fromDomain}, got ${got}`);
      continue;
    }
    const fromDomain = test.fromDomain ?? /@([^>\s]+)/.exec(test.fromHeader ?? '')?.[1] ?? '';
    const table = new Map<string, TxtTableEntry>();
    if (test.record) {
      // alignment cases give only the policy: publish it at the organizational domain (the
      // registrable domain of these example names), where RFC 7489 and RFC 9989 agree it belongs
      table.set(`_dmarc.${fromDomain.split('.').slice(-2).join('.')}`, { txt: [`v=DMARC1; p=none; adkim=${test.record.adkim ?? 'r'}; aspf=${test.record.aspf ?? 'r'}`] });
    }
    for (const [name, value] of Object.entries(test.dns ?? {})) {
      table.set(name.toLowerCase(), Array.isArray(value) ? { txt: value } : { error: /timeout|temporary/i.test(value.error) ? 'ETIMEOUT' : 'ESERVFAIL' });
    }
    const auth = test.authResults ?? [];
    const { dmarc } = await verifyDmarc({
      headerFrom: [`user@${fromDomain}`],
      spfDomains: auth.filter((r) => r.method === 'spf' && r.result === 'pass').map((r) => r.mailfromDomain || r.helo || '').filter(Boolean),
      dkimDomains: auth.filter((r) => r.method === 'dkim' && r.result === 'pass' && r.d).map((r) => r.d!),
      resolver: txtTableResolver(table, test.otherRecords),
    });
    const result = dmarc ? dmarc.status.result : 'none';
    const problems: string[] = [];
    const expect = (what: string, want: string | undefined, got: string | undefined) => {
      if (want !== undefined && want !== got) {
        problems.push(`${what}: expected ${want}, got ${got}`);
      }
    };
    expect('dmarc', test.expected.dmarc, result);
    expect('policy', test.expected.policy, dmarc ? dmarc.policy : 'none');
    expect('policyApplied', test.expected.policyApplied, result === 'fail' && dmarc ? dmarc.policy : 'none');
    const aligned = (want: string | undefined, domain: string | undefined) => (want === undefined ? undefined : domain ? 'pass' : want === 'none' ? 'none' : 'fail');
    expect('spfAligned', test.expected.spfAligned, aligned(test.expected.spfAligned, dmarc ? dmarc.alignment?.spf?.result : undefined));
    expect('dkimAligned', test.expected.dkimAligned, aligned(test.expected.dkimAligned, dmarc ? dmarc.alignment?.dkim?.result : undefined));
    tally.record(test.id, problems.length === 0, problems.join('; '));
  }
  tally.result.notScored = `${skipped} implementation-choice cases not scored`;
  return tally.result;
}

interface MilterCase {
  desc: string;
  source: string;
  envelope: { ip: string; helo: string; mailFrom: string; rcptTo: string };
  expectedAuthResults: Record<string, string[]>;
  configDependent?: string[];
}

/** authentication_milter end-to-end corpus: spf/dkim/dmarc tokens of the 13 config-independent single-From cases. */
export async function runMilterCorpus(dir: string): Promise<SuiteResult> {
  const tally = new Tally('dmarc-milter');
  const base = path.join(dir, 'authentication-milter');
  const { cases } = JSON.parse(read(base, 'cases.json')) as { cases: MilterCase[] };
  const resolver = zonefileResolver(read(base, 'source-zonefile.txt'));
  let configDependent = 0;
  let multiFrom = 0;
  for (const [index, test] of cases.entries()) {
    if (test.configDependent?.length) {
      configDependent++;
      continue;
    }
    if ((test.expectedAuthResults.dmarc ?? []).length > 1) {
      multiFrom++; // several From addresses: the milter reports one dmarc result per address (its choice)
      continue;
    }
    const auth = await authenticateMessage(
      { message: toCrlf(readFileSync(path.join(base, test.source))), clientIp: test.envelope.ip, helo: test.envelope.helo, envelopeSender: test.envelope.mailFrom },
      { resolver },
    );
    const got: Record<string, string[]> = {
      spf: [auth.spf.status.result],
      dkim: auth.dkim.results?.length ? auth.dkim.results.map((r) => r.status.result) : ['none'],
      dmarc: [auth.dmarc ? auth.dmarc.status.result : 'none'],
    };
    const problems = (['spf', 'dkim', 'dmarc'] as const)
      .filter((method) => test.expectedAuthResults[method] && test.expectedAuthResults[method].join(',') !== got[method].join(','))
      .map((method) => `${method}: expected ${test.expectedAuthResults[method].join(',')}, got ${got[method].join(',')}`);
    tally.record(`${index}:${test.desc}`, problems.length === 0, problems.join('; '));
  }
  tally.result.notScored = `${configDependent} config-dependent and ${multiFrom} multi-From cases not scored`;
  return tally.result;
}


interface ArcSignCase {
  message: string;
  t: number;
  'sig-headers': string;
  'srv-id': string;
  AS: string;
  AMS: string;
  AAR: string;
}

const tagOf = (value: string, tag: string) => new RegExp(`(?:^|;)\\s*${tag}=([^;]*)`).exec(value.replace(/\s+/g, ''))?.[1] ?? '';

/**
 * ValiMail's ARC signing suite, through Mailwarden's sealer (`sealCopy` of libs/delivery, mailauth's signing in strict
 * mode) with each case's key, time, signed fields and AAR payload. Two scores: `arc-sealing-roundtrip`, the set we add
 * validates (the chain passes our strict validator, mailauth's `verifyDkim` + `verifyArc`, against the suite's key
 * records); `arc-sealing-reference`, the same body hash and the same ARC-Seal i=, cv=, d=, s= as the suite's reference
 * sealer (a second, independent implementation, offline), and no set where the reference adds none.
 */
export async function runArcSealing(dir: string): Promise<SuiteResult[]> {
  const roundTrip = new Tally('arc-sealing-roundtrip');
  const reference = new Tally('arc-sealing-reference');
  const docs = loadAll(read(dir, 'arc-draft-sign-tests.yml'), { json: true }).filter(Boolean) as {
    tests: Record<string, ArcSignCase>;
    domain: string;
    sel: string;
    privatekey: string;
    'txt-records': Record<string, string>;
  }[];
  for (const doc of docs) {
    const resolver = txtTableResolver(
      new Map<string, TxtTableEntry>(Object.entries(doc['txt-records'] ?? {}).map(([name, txt]) => [name.toLowerCase(), { txt: [String(txt).replace(/\s+/g, '')] }])),
    );
    const key: ArcSealingKey = { domain: doc.domain, selector: doc.sel, privateKey: doc.privatekey };
    for (const [id, test] of Object.entries(doc.tests)) {
      // An empty expected set: the sealer must add none (a chain that already failed, RFC 8617 5.1 step 2).
      const noSet = !String(test.AS ?? '').trim();
      const cv = (tagOf(test.AS ?? '', 'cv').toLowerCase() || 'pass') as 'none' | 'pass' | 'fail';
      try {
        const sealed = await sealCopy(toCrlf(test.message), key, {
          authservId: test['srv-id'],
          checks: null,
          chain: cv,
          signTime: new Date(Number(test.t) * 1000),
          headerList: test['sig-headers'],
          authResults: test.AAR.replace(/^\s*i=\d+;\s*/, '').replace(/\s+$/, ''),
        });
        if (!sealed.instance || noSet) {
          roundTrip.record(id, noSet === !sealed.instance, noSet ? 'expected no set, one was added' : `not sealed: ${sealed.error}`);
          reference.record(id, noSet === !sealed.instance, noSet ? 'expected no set, one was added' : `not sealed: ${sealed.error}`);
          continue;
        }
        const arc = await verifyArc(await verifyDkim(sealed.raw, { resolver, verificationTime: new Date(Number(test.t) * 1000) }), { resolver });
        const expected = cv === 'fail' ? 'fail' : 'pass';
        roundTrip.record(id, arc.status.result === expected, `expected ${expected}, got ${arc.status.result}${arc.status.comment ? ` (${arc.status.comment})` : ''}`);

        const field = (name: string) =>
          sealed.raw
            .toString('latin1')
            .split(/\r\n(?![ \t])/)
            .find((line) => line.toLowerCase().startsWith(`${name}:`) && new RegExp(`\\bi=${sealed.instance};`).test(line.replace(/\s+/g, ' ')))
            ?.slice(name.length + 1) ?? '';
        const [ams, as] = [field('arc-message-signature'), field('arc-seal')];
        // b= is not compared: it signs the tag list as each sealer writes it (order, t=, h= spelling), so two correct
        // sealers differ there; what must agree is the canonicalised body and the set's identity.
        const compared = [tagOf(ams, 'bh') === tagOf(test.AMS, 'bh'), ...['i', 'cv', 'd', 's'].map((tag) => tagOf(as, tag).toLowerCase() === tagOf(test.AS, tag).toLowerCase())];
        reference.record(id, compared.every(Boolean), `bh ${compared[0] ? 'same' : 'differs'}; ARC-Seal i/cv/d/s ${compared.slice(1).every(Boolean) ? 'same' : `ours ${as.replace(/\s+/g, ' ')}`}`);
      } catch (err) {
        roundTrip.record(id, false, `exception: ${(err as Error).message}`);
        reference.record(id, false, `exception: ${(err as Error).message}`);
      }
    }
  }
  return [roundTrip.result, reference.result];
}

/**
 * DKIM signing round trip: every message of ValiMail's ARC signing suite (varied canonicalisation edge cases) signed by
 * Mailwarden's signer (`dkimSignCopy`, relaxed/relaxed) with a fresh RSA-2048 and a fresh Ed25519 key, then verified
 * by our strict verifier (mailauth) against the published record (`dkimDnsRecord`).
 */
export async function runDkimSigning(arcDir: string): Promise<SuiteResult> {
  const tally = new Tally('dkim-signing-roundtrip');
  const docs = loadAll(read(arcDir, 'arc-draft-sign-tests.yml'), { json: true }).filter(Boolean) as { tests: Record<string, { message: string }> }[];
  const keys = (['rsa-sha256', 'ed25519-sha256'] as const).map((algorithm) => generateDkimKey(algorithm));
  const resolver = txtTableResolver(new Map(keys.map((key) => [dkimRecordName(key.algorithm.split('-')[0]!, 'signer.example'), { txt: [key.dnsRecord] }])));
  for (const doc of docs) {
    for (const [id, test] of Object.entries(doc.tests)) {
      for (const key of keys) {
        const caseId = `${id}/${key.algorithm}`;
        try {
          const signed = await dkimSignCopy(toCrlf(test.message), { domain: 'signer.example', selector: key.algorithm.split('-')[0]!, privateKey: key.privateKey });
          const dkim = await verifyDkim(signed.raw, { resolver });
          const mine = (dkim.results ?? []).find((result) => result.signingDomain === 'signer.example');
          tally.record(caseId, !signed.error && mine?.status.result === 'pass', `signing ${signed.error ?? 'ok'}, verification ${mine?.status.result ?? 'no signature'}${mine?.status.comment ? ` (${mine.status.comment})` : ''}`);
        } catch (err) {
          tally.record(caseId, false, `exception: ${(err as Error).message}`);
        }
      }
    }
  }
  return tally.result;
}
