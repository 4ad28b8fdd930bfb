import { X509Certificate, createPrivateKey } from 'node:crypto';
import { loadOrGenerateTlsKeyPair } from './tls-certificate';

describe(loadOrGenerateTlsKeyPair.name, () => {
  it('should generate a self-signed certificate for the host name when no files are configured', () => {
    const pair = loadOrGenerateTlsKeyPair({ hostname: 'journal.mailwarden.test' });
    const cert = new X509Certificate(pair.cert);
    expect(pair.source).toBe('generated');
    expect(cert.subject).toContain('CN=journal.mailwarden.test');
    expect(cert.subjectAltName).toContain('DNS:journal.mailwarden.test');
    expect(cert.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
  });
});
