import { hasBareCrOrLf } from '@mailwarden/journal';
import { headerValues } from './header-section';
import { PROCESSED_HEADER, readProcessedMarks } from './loop-prevention';
import { planCopies, prepareCopy } from './prepare-copy';
import { authenticationResultsHeader } from './trace-headers';

const id = '6f1c2b9e-3a51-4a77-9d39-2c1f0e6b7a10';
const base = {
  host: 'mx.mailwarden.test',
  messageId: id,
  received: { helo: 'mail.sender.example', clientIp: '192.0.2.1', tls: true, recipient: 'b@rcpt.example', date: new Date('2026-11-25T10:00:00Z') },
  checks: [
    { check: 'dmarc', status: 'pass', evidence: { fromDomain: 'sender.example', policy: 'reject' } },
    { check: 'spf', status: 'pass', evidence: { envelopeSender: 'a@sender.example', domain: 'sender.example' } },
    { check: 'dkim', status: 'fail', evidence: { signatures: [{ domain: 'sender.example', selector: 's1', result: 'fail' }] } },
    { check: 'header-anomaly', status: 'not-run' },
  ],
  markProcessed: false,
};

describe(prepareCopy.name, () => {
  it('should normalise a smuggled bare-LF end of data so the next hop sees it as text', () => {
    const raw = Buffer.from('From: a@sender.example\r\nSubject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x>\r\n');
    const copy = prepareCopy(raw, base);
    expect(hasBareCrOrLf(copy)).toBe(false);
    expect(copy.toString()).toContain('hello\r\n.\r\nMAIL FROM:<evil@x>\r\n');
  });

  it('should add Received and Authentication-Results on top and drop forged results claiming our authserv-id', () => {
    const raw = Buffer.from('Authentication-Results: mx.mailwarden.test; dmarc=pass header.from=bank.example\r\nAuthentication-Results: other.example; spf=pass\r\nFrom: a@sender.example\r\n\r\nbody\r\n');
    const copy = prepareCopy(raw, base).toString();
    expect(copy.replace(/\r\n(?=[ \t])/g, '').startsWith('Received: from mail.sender.example ([192.0.2.1]) by mx.mailwarden.test (Mailwarden) with ESMTPS id')).toBe(true);
    const results = headerValues(Buffer.from(copy), 'authentication-results');
    expect(results).toEqual([
      'mx.mailwarden.test; dmarc=pass (p=reject) header.from=sender.example; spf=pass smtp.mailfrom=a@sender.example; dkim=fail header.d=sender.example header.s=s1',
      'other.example; spf=pass',
    ]);
  });

  it('should mark mailflow copies and replace foreign marks unless relaying an already processed message', () => {
    const raw = Buffer.from(`${PROCESSED_HEADER}: mx.mailwarden.test; 00000000-0000-0000-0000-000000000000\r\nFrom: a@b\r\n\r\nx\r\n`);
    expect(readProcessedMarks(prepareCopy(raw, { ...base, markProcessed: true }))).toEqual([{ host: 'mx.mailwarden.test', messageId: id }]);
    expect(readProcessedMarks(prepareCopy(raw, { ...base, markProcessed: true, keepProcessedMarks: true }))).toHaveLength(2);
    expect(readProcessedMarks(prepareCopy(raw, base))).toHaveLength(0);
  });
});

describe(authenticationResultsHeader.name, () => {
  it('should say none when no check ran', () => {
    expect(authenticationResultsHeader('mx.test', [{ check: 'dmarc', status: 'skipped-by-allow-list' }])).toBe('Authentication-Results: mx.test; none');
  });
});

describe(planCopies.name, () => {
  it('should give recipients with different tags or downstreams their own copy', () => {
    const route = { host: 'smart.example', port: 25, requireTls: true, verifyCert: true };
    const copies = planCopies([
      { recipient: 'a@x', subjectTag: null, route },
      { recipient: 'b@x', subjectTag: '[SUSPICIOUS]', route },
      { recipient: 'c@x', subjectTag: null, route },
      { recipient: 'd@y', subjectTag: null, route: { ...route, host: 'other.example' } },
    ]);
    expect(copies.map((copy) => copy.recipients)).toEqual([['a@x', 'c@x'], ['b@x'], ['d@y']]);
  });
});
