import { generateKeyPairSync } from 'node:crypto';
import { authenticate } from 'mailauth';
import { DnsError, ZoneDnsResolver } from '@mailwarden/sender-checks';
import { arcChainStatus, sealCopy, type ArcSealingKey } from './arc-seal';
import { dkimDnsRecord, dkimRecordName } from './dkim-sign';
import { tagSubject } from './subject-tag';

const pem = (type: 'rsa' | 'ed25519') =>
  (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const forwarder: ArcSealingKey = { domain: 'forwarder.example', selector: 'arc1', privateKey: pem('rsa') };
const mailwarden: ArcSealingKey = { domain: 'mailwarden.example', selector: 'arc2', privateKey: pem('rsa') };
const mailwardenEd: ArcSealingKey = { domain: 'mailwarden.example', selector: 'arced', privateKey: pem('ed25519') };

const zone = new ZoneDnsResolver({
  [dkimRecordName(forwarder.selector, forwarder.domain)]: { TXT: [dkimDnsRecord(forwarder.privateKey)] },
  [dkimRecordName(mailwarden.selector, mailwarden.domain)]: { TXT: [dkimDnsRecord(mailwarden.privateKey)] },
  [dkimRecordName(mailwardenEd.selector, mailwardenEd.domain)]: { TXT: [dkimDnsRecord(mailwardenEd.privateKey)] },
  'sender.example': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
});
const resolver = (name: string, rrtype: string) => zone.resolve(name, rrtype);

const original = Buffer.from(
  ['From: alice@sender.example', 'To: bob@acme.example', 'Subject: Quarterly report', 'Message-ID: <q1@sender.example>', 'Date: Wed, 25 Nov 2026 10:00:00 +0000', '', 'Numbers inside.', ''].join('\r\n'),
);
const checks = [
  { check: 'dmarc', status: 'pass', evidence: { fromDomain: 'sender.example', policy: 'none' } },
  { check: 'spf', status: 'pass', evidence: { envelopeSender: 'alice@sender.example' } },
  { check: 'dkim', status: 'fail', evidence: { signatures: [{ domain: 'sender.example', selector: 's1', result: 'fail' }] } },
];

async function validate(raw: Buffer) {
  const { arc } = await authenticate(raw, { ip: '192.0.2.1', helo: 'mx.forwarder.example', sender: 'alice@sender.example', mta: 'mx.acme.example', resolver: resolver as never });
  if (!arc) {
    throw new Error('mailauth returned no ARC result');
  }
  return arc;
}

describe('sealCopy', () => {
  it('should add i=1 with cv=none to a message without a chain', async () => {
    expect(await arcChainStatus(original, resolver)).toBe('none');
    const sealed = await sealCopy(original, mailwarden, { authservId: 'mx.mailwarden.example', checks, chain: 'none' });
    expect(sealed.error).toBeNull();
    expect(sealed.instance).toBe(1);
    const arc = await validate(sealed.raw);
    expect(arc.status.result).toBe('pass');
    const text = sealed.raw.toString('latin1').replace(/\r\n[ \t]+/g, ' ');
    expect(text).toMatch(/^ARC-Seal: i=1; a=rsa-sha256; .*cv=none; d=mailwarden\.example; s=arc2;/m);
    expect(text).toMatch(/^ARC-Authentication-Results: i=1; mx\.mailwarden\.example; dmarc=pass \(p=none\) header\.from=sender\.example; spf=pass smtp\.mailfrom=alice@sender\.example; dkim=fail header\.d=sender\.example header\.s=s1; arc=none$/m);
  });

  it('should seal i=2 with cv=pass over a tagged copy of a message that arrived with a valid set', async () => {
    const first = await sealCopy(original, forwarder, { authservId: 'mx.forwarder.example', checks: [], chain: 'none' });
    expect(first.instance).toBe(1);
    // What Mailwarden saw on arrival, before it changed anything.
    expect(await arcChainStatus(first.raw, resolver)).toBe('pass');
    const tagged = tagSubject(first.raw, '[SUSPICIOUS]');
    const second = await sealCopy(tagged, mailwarden, { authservId: 'mx.mailwarden.example', checks, chain: 'pass' });
    expect(second.error).toBeNull();
    expect(second.instance).toBe(2);

    const arc = await validate(second.raw);
    expect(arc.status.result).toBe('pass');
    expect(arc.i).toBe(2);
    expect(second.raw.toString('latin1').replace(/\r\n[ \t]+/g, ' ')).toMatch(/^ARC-Seal: i=2; a=rsa-sha256; .*cv=pass; d=mailwarden\.example/m);
    // Without our set the tagged message's chain is broken: the first set's signature no longer covers the Subject.
    expect((await validate(tagged)).status.result).toBe('fail');
  });

  it('should seal with an Ed25519 key', async () => {
    const sealed = await sealCopy(original, mailwardenEd, { authservId: 'mx.mailwarden.example', checks: null, chain: 'none' });
    expect(sealed.raw.toString('latin1')).toMatch(/^ARC-Seal: i=1; a=ed25519-sha256;/m);
    expect((await validate(sealed.raw)).status.result).toBe('pass');
  });

  it('should call a chain whose keys could not be looked up a temperror, not a failure', async () => {
    const first = await sealCopy(original, forwarder, { authservId: 'mx.forwarder.example', checks: [], chain: 'none' });
    const timingOut = async (name: string, rrtype: string): Promise<never> => {
      throw new DnsError('ETIMEOUT', name, rrtype);
    };
    expect(await arcChainStatus(first.raw, timingOut)).toBe('temperror');
    // An answer that the key does not exist is a failure, not a temperror.
    expect(await arcChainStatus(first.raw, async (name, rrtype) => zone.resolve(name.replace('forwarder', 'nowhere'), rrtype))).toBe('fail');
  });

  it('should not seal again a chain whose newest seal says cv=fail', async () => {
    const first = await sealCopy(original, forwarder, { authservId: 'mx.forwarder.example', checks: [], chain: 'none' });
    const broken = Buffer.from(first.raw.toString('latin1').replace('Numbers inside.', 'Numbers changed.'), 'latin1');
    expect(await arcChainStatus(broken, resolver)).toBe('fail');
    const failed = await sealCopy(broken, mailwarden, { authservId: 'mx.mailwarden.example', checks, chain: 'fail' });
    expect(failed.instance).toBe(2);
    const again = await sealCopy(failed.raw, forwarder, { authservId: 'mx.forwarder.example', checks: [], chain: 'pass' });
    expect(again.instance).toBeNull();
    expect(again.error).toMatch(/cv=fail/);
    expect(again.raw).toBe(failed.raw);
  });
});
