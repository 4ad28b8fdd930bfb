import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { ZoneDnsResolver } from '@mailwarden/sender-checks';
import { dkimDnsRecord, dkimRecordName, dkimSignCopy, generateDkimKey, type DkimAlgorithm } from './dkim-sign';

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
