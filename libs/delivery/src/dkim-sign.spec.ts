import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { ZoneDnsResolver } from '@mailwarden/sender-checks';
import { dkimDnsRecord, dkimRecordName, dkimRecordPublishes, dkimSelectorProblem, dkimSignCopy, generateDkimKey, parseDkimRecord, type DkimAlgorithm } from './dkim-sign';

const message = (from: string) =>
  Buffer.from([`From: Alice <${from}>`, 'To: partner@far.example', 'Subject: Offer', 'Message-ID: <o1@acme.example>', '', 'Hello.', ''].join('\r\n'));

describe('dkimSignCopy', () => {
  it.each<DkimAlgorithm>(['rsa-sha256', 'ed25519-sha256'])('should sign relaxed/relaxed with %s so that mailauth verifies it against the published record', async (algorithm) => {
    const key = generateDkimKey(algorithm);
    expect(key.dnsRecord).toBe(dkimDnsRecord(key.privateKey));
    expect(key.dnsRecord).toMatch(algorithm === 'rsa-sha256' ? /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{390,}$/ : /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/=]{44}$/);
    const zone = new ZoneDnsResolver({ [dkimRecordName('mw1', 'acme.example')]: { TXT: [key.dnsRecord] } });

    const signed = await dkimSignCopy(message('alice@acme.example'), { domain: 'acme.example', selector: 'mw1', privateKey: key.privateKey });
    expect(signed.error).toBeNull();
    const header = signed.raw.toString('latin1').split('\r\nFrom:')[0]!.replace(/\r\n[ \t]+/g, ' ');
    expect(header).toMatch(new RegExp(`^DKIM-Signature: v=1; a=${algorithm}; c=relaxed/relaxed; d=acme\\.example; .*\\bs=mw1;`));

    const result = await dkimVerify(signed.raw, { resolver: ((name: string, rrtype: string) => zone.resolve(name, rrtype)) as never });
    expect(result.results.map((entry) => [entry.signingDomain, entry.status.result])).toEqual([['acme.example', 'pass']]);

    // A changed body fails: the signature covers it.
    const tampered = Buffer.from(signed.raw.toString('latin1').replace('Hello.', 'Hellp.'), 'latin1');
    const failed = await dkimVerify(tampered, { resolver: ((name: string, rrtype: string) => zone.resolve(name, rrtype)) as never });
    expect(failed.results[0]?.status.result).not.toBe('pass');
  });

  it('should leave a message without From unsigned and say why', async () => {
    const key = generateDkimKey('ed25519-sha256');
    const raw = Buffer.from('To: partner@far.example\r\nSubject: x\r\n\r\nbody\r\n');
    const signed = await dkimSignCopy(raw, { domain: 'acme.example', selector: 'mw1', privateKey: key.privateKey });
    expect(signed.raw).toBe(raw);
    expect(signed.error).toBeTruthy();
  });
});

describe('dkimSelectorProblem', () => {
  it.each(['mw1', 'mw-2026', 'a.b.c', '2026', 'x'.repeat(63)])('should accept the RFC 6376 selector %s', (selector) => {
    expect(dkimSelectorProblem(selector, 'acme.example')).toBeNull();
  });

  it.each(['', 'mw_1', '-mw', 'mw-', 'a..b', '.a', 'a.', 'x'.repeat(64), 'a b', 'mw;s=x', 'MW1', 'é'])('should refuse %j with the reason', (selector) => {
    expect(dkimSelectorProblem(selector, 'acme.example')).toEqual(expect.any(String));
  });

  it('should refuse a selector whose record name would not fit in DNS (253 characters)', () => {
    const selector = ['a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60)].join('.');
    expect(dkimSelectorProblem(selector, 'acme.example')).toBeNull();
    expect(dkimSelectorProblem(selector, `${'d'.repeat(60)}.example`)).toMatch(/exceed 253/);
  });
});

describe('dkimRecordPublishes', () => {
  const ours = generateDkimKey('ed25519-sha256').dnsRecord;
  const theirs = generateDkimKey('ed25519-sha256').dnsRecord;

  it('should match our record however it is spaced, next to records that are not DKIM keys', () => {
    expect(parseDkimRecord(' V = DKIM1 ;k=ed25519; p = ab cd ')).toEqual(new Map([['v', 'DKIM1'], ['k', 'ed25519'], ['p', 'abcd']]));
    expect(dkimRecordPublishes([ours], ours)).toBe(true);
    expect(dkimRecordPublishes(['v=spf1 -all', ours.replace(/; /g, ';\t')], ours)).toBe(true);
  });

  it('should not match nothing, another key, ours next to another key, a revoked key, another key type or version', () => {
    expect(dkimRecordPublishes([], ours)).toBe(false);
    expect(dkimRecordPublishes(['v=spf1 -all'], ours)).toBe(false);
    expect(dkimRecordPublishes([theirs], ours)).toBe(false);
    expect(dkimRecordPublishes([ours, theirs], ours)).toBe(false);
    expect(dkimRecordPublishes(['v=DKIM1; k=ed25519; p='], 'v=DKIM1; k=ed25519; p=')).toBe(false);
    expect(dkimRecordPublishes([ours.replace('k=ed25519', 'k=rsa')], ours)).toBe(false);
    expect(dkimRecordPublishes([ours.replace('v=DKIM1', 'v=DKIM2')], ours)).toBe(false);
    // An RSA record without k= is RSA (the default, RFC 6376 3.6.1).
    const rsa = generateDkimKey('rsa-sha256').dnsRecord;
    expect(dkimRecordPublishes([rsa.replace('k=rsa; ', '')], rsa)).toBe(true);
  });
});
