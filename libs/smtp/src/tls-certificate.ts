import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TlsKeyPair {
  key: Buffer;
  cert: Buffer;
  /** Where it came from, for the start-up log. */
  source: 'files' | 'generated';
}

/**
 * The STARTTLS key pair of an SMTP listener: the configured PEM files, or else a self-signed certificate for
 * `hostname` generated at start (openssl, RSA 2048, 1 year). smtp-server's own built-in certificate is never
 * used: its private key is public. A generated certificate is fine for journal senders and local runs, which
 * do opportunistic TLS without verifying the peer; production listeners should be given real files.
 */
export function loadOrGenerateTlsKeyPair(options: { keyFile?: string; certFile?: string; hostname: string }): TlsKeyPair {
  if (options.keyFile && options.certFile) {
    return { key: readFileSync(options.keyFile), cert: readFileSync(options.certFile), source: 'files' };
  }
  const subject = `/CN=${options.hostname.replace(/[^A-Za-z0-9.-]/g, '')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'mailwarden-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', subject, '-days', '365', '-addext', `subjectAltName=DNS:${options.hostname}`],
      { stdio: 'ignore' },
    );
    const key = readFileSync(keyFile);
    const cert = readFileSync(certFile);
    return { key, cert, source: 'generated' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
