import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { DKIMResult } from 'mailauth';
import { authenticateMessage, convertPkcs1KeyRecord, enforceRfc8301, withPkcs1KeySupport } from './authenticate-message';
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
