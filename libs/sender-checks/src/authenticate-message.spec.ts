import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { DKIMResult } from 'mailauth';
import { alter, keyRecord, rsaKey, sealByHand, signByHand } from '../test/sender-checks.fixtures';
import {
  authenticateMessage,
  convertPkcs1KeyRecord,
  enforceRfc8301,
  PKCS1_MEMO_ENTRIES,
  pkcs1MemoSize,
  verifyArc,
  verifyDkim,
  withPkcs1KeySupport,
} from './authenticate-message';
import { ZoneDnsResolver } from './zone-resolver';

describe(convertPkcs1KeyRecord.name, () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'der' }).toString('base64');

  it('should rewrite a bare PKCS#1 key to SubjectPublicKeyInfo and keep the other tags', () => {
    const converted = convertPkcs1KeyRecord(`v=DKIM1; k=rsa; p=${pkcs1}; t=y`);
    expect(converted).toBe(`v=DKIM1; k=rsa; p=${spki}; t=y`);
    const key = createPublicKey({ key: Buffer.from(spki, 'base64'), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(1024);
  });

  it('should leave SubjectPublicKeyInfo keys, revoked keys and ed25519 keys alone', () => {
    expect(convertPkcs1KeyRecord(`v=DKIM1; p=${spki}`)).toBeNull();
    expect(convertPkcs1KeyRecord('v=DKIM1; p=')).toBeNull();
    expect(convertPkcs1KeyRecord('v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=')).toBeNull();
    expect(convertPkcs1KeyRecord('v=DKIM1; p=bm90IGEga2V5')).toBeNull();
  });

  it('should give the same answer from its memo for a record seen before, without parsing the key again', () => {
    const record = `v=DKIM1; k=rsa; p=${pkcs1}; t=s`;
    const first = convertPkcs1KeyRecord(record);
    const parses = jest.spyOn(Buffer, 'from');
    try {
      expect(convertPkcs1KeyRecord(record)).toBe(first);
      expect(convertPkcs1KeyRecord(`v=DKIM1; p=${spki}; t=s`)).toBeNull();
      expect(convertPkcs1KeyRecord(`v=DKIM1; p=${spki}; t=s`)).toBeNull();
      // the SPKI record above was new (one decode), its repeat and the PKCS#1 repeat came from the memo
      expect(parses).toHaveBeenCalledTimes(1);
    } finally {
      parses.mockRestore();
    }
    expect(first).toBe(`v=DKIM1; k=rsa; p=${spki}; t=s`);
  });

  it('should keep its memo bounded whatever the number of distinct records', () => {
    for (let i = 0; i < PKCS1_MEMO_ENTRIES + 50; i++) {
      convertPkcs1KeyRecord(`v=DKIM1; n=${i}; p=${spki}`);
    }
    expect(pkcs1MemoSize()).toBeLessThanOrEqual(PKCS1_MEMO_ENTRIES);
  });

  it('should convert only DKIM key lookups when wrapping a resolver', async () => {
    const zone = new ZoneDnsResolver({ 's._domainkey.example.org': { TXT: [`p=${pkcs1}`] }, 'example.org': { TXT: [`p=${pkcs1}`] } });
    const resolve = withPkcs1KeySupport(zone.resolve);
    expect(await resolve('s._domainkey.example.org', 'TXT')).toEqual([[`p=${spki}`]]);
    expect(await resolve('example.org', 'TXT')).toEqual([[`p=${pkcs1}`]]);
    expect(withPkcs1KeySupport(resolve)).toBe(resolve);
    expect(withPkcs1KeySupport(zone.resolve)).toBe(resolve);
  });
});

describe(enforceRfc8301.name, () => {
  const result = (algo: string, modulusLength: number) => ({ algo, modulusLength, status: { result: 'pass' } }) as unknown as DKIMResult;

  it('should turn a passing rsa-sha1 signature into policy (weak-algorithm)', () => {
    const r = result('rsa-sha1', 2048);
    enforceRfc8301(r);
    expect(r.status).toMatchObject({ result: 'policy', policy: { 'dkim-rules': 'weak-algorithm' } });
  });

  it('should turn a passing signature with a key under 1024 bits into policy (weak-key)', () => {
    const r = result('rsa-sha256', 768);
    enforceRfc8301(r);
    expect(r.status).toMatchObject({ result: 'policy', policy: { 'dkim-rules': 'weak-key' } });
  });

  it('should keep rsa-sha256 with a 1024-bit key and ed25519 passing', () => {
    const rsa = result('rsa-sha256', 1024);
    const ed = result('ed25519-sha256', 0);
    enforceRfc8301(rsa);
    enforceRfc8301(ed);
    expect([rsa.status.result, ed.status.result]).toEqual(['pass', 'pass']);
  });
});

describe(authenticateMessage.name, () => {
  it('should refuse a message that is not a Buffer', async () => {
    await expect(authenticateMessage({ message: 'x' as unknown as Buffer, clientIp: '192.0.2.1', helo: 'h', envelopeSender: '' }, { resolver: new ZoneDnsResolver({}).resolve })).rejects.toThrow(TypeError);
  });

  it('should return every protocol result for one message', async () => {
    const zone = new ZoneDnsResolver({ 'example.org': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] }, '_dmarc.example.org': { TXT: ['v=DMARC1; p=quarantine'] } });
    const auth = await authenticateMessage(
      { message: Buffer.from('From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n'), clientIp: '192.0.2.1', helo: '192.0.2.1', envelopeSender: 'a@example.org' },
      { resolver: zone.resolve },
    );
    expect(auth.spf.status.result).toBe('pass');
    expect(auth.arc.status.result).toBe('none');
    expect(auth.dmarc && auth.dmarc.status.result).toBe('pass');
    expect(auth.headerFrom).toEqual(['a@example.org']);
  });
});

describe('legacy signatures', () => {
  const key = rsaKey();
  const resolver = new ZoneDnsResolver({
    'sel._domainkey.sender.example': { TXT: [keyRecord(key)] },
    'arc._domainkey.forwarder.example': { TXT: [keyRecord(key)] },
  }).resolve;
  const original = Buffer.from('From: Alice <alice@sender.example>\r\nTo: bob@customer.example\r\nSubject: Quarterly report\r\n\r\nHello  there \r\n\r\n');
  const onTop = (field: string, message: Buffer) => Buffer.concat([Buffer.from(`${field}\r\n`), message]);
  const dkimByHand = (tags: string) => onTop(signByHand(original, { field: 'DKIM-Signature', tags, signedFields: ['from', 'to', 'subject'], key }), original);

  /** One ARC set by hand; the AMS gets exactly `amsTags` (plus h=, bh=, b=). */
  function arcSealed(amsTags: string, signedFields: string[]): Buffer {
    const aar = 'ARC-Authentication-Results: i=1; mx.forwarder.example; dkim=pass header.d=sender.example; dmarc=pass header.from=sender.example';
    const withAar = onTop(aar, original);
    const ams = signByHand(withAar, { field: 'ARC-Message-Signature', tags: amsTags, signedFields, key });
    const seal = sealByHand([aar, ams], { tags: 'i=1; a=rsa-sha256; cv=none; d=forwarder.example; s=arc; t=1764000000', key });
    return onTop(seal, onTop(ams, withAar));
  }

  it('should pass a DKIM signature without v= and with the draft-era q=dns when it verifies', async () => {
    const dkim = await verifyDkim(dkimByHand('a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=sel; q=dns'), { resolver });
    expect(dkim.results.map((result) => result.status.result)).toEqual(['pass']);
  });

  it('should not pass a signature without v= whose signed content changed', async () => {
    const dkim = await verifyDkim(alter(dkimByHand('a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=sel'), 'Quarterly', 'Annual'), { resolver });
    // the strict result stands: neutral (PERMFAIL, missing required tag), never pass
    expect(dkim.results.map((result) => result.status.result)).toEqual(['neutral']);
  });

  it('should pass a hand-made DKIM signature with every tag (the fixture signs correctly)', async () => {
    const dkim = await verifyDkim(dkimByHand('v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=sel'), { resolver });
    expect(dkim.results.map((result) => result.status.result)).toEqual(['pass']);
  });

  it('should validate an ARC chain whose AMS has no c= and verifies as relaxed/relaxed (the ARC drafts default)', async () => {
    const sealed = arcSealed('i=1; a=rsa-sha256; d=forwarder.example; s=arc; t=1764000000', ['from', 'to', 'subject', 'arc-authentication-results']);
    const arc = await verifyArc(await verifyDkim(sealed, { resolver }), { resolver });
    expect(arc.status.result).toBe('pass');
  });

  it('should fail the chain when the AMS does not sign From, although it verifies (From could be replaced under a trusted seal)', async () => {
    const sealed = arcSealed('i=1; a=rsa-sha256; c=relaxed/relaxed; d=forwarder.example; s=arc; t=1764000000', ['to', 'subject', 'arc-authentication-results']);
    const arc = await verifyArc(await verifyDkim(sealed, { resolver }), { resolver });
    expect(arc.status.result).toBe('fail');
  });
});
