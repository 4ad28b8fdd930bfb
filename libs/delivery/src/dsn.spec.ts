import { buildDsn, dsnStatus } from './dsn';

describe(buildDsn.name, () => {
  const original = Buffer.from('From: a@sender.example\r\nTo: b@rcpt.example\r\nSubject: Hi\r\n\r\nsecret body\r\n');

  it('should build an RFC 3464 multipart/report with per-message and per-recipient fields and the headers only', () => {
    const dsn = buildDsn({
      reportingMta: 'mx.mailwarden.test',
      to: 'a@sender.example',
      arrivalDate: new Date('2026-11-25T10:00:00Z'),
      original,
      recipients: [{ recipient: 'b@rcpt.example', diagnostic: '550 5.1.1 <b@rcpt.example>: unknown user', remoteMta: 'smart.rcpt.example', expired: false }],
      boundary: 'B',
    }).toString();
    expect(dsn).toContain('Content-Type: multipart/report; report-type=delivery-status; boundary="B"');
    expect(dsn).toContain('Auto-Submitted: auto-replied');
    expect(dsn).toMatch(/--B\r\nContent-Type: message\/delivery-status\r\n\r\nReporting-MTA: dns; mx\.mailwarden\.test\r\nArrival-Date: Wed, 25 Nov 2026 10:00:00 \+0000\r\n\r\nFinal-Recipient: rfc822; b@rcpt\.example\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; smart\.rcpt\.example\r\nDiagnostic-Code: smtp; 550 5\.1\.1/);
    expect(dsn).toContain('Content-Type: text/rfc822-headers\r\n\r\nFrom: a@sender.example\r\n');
    expect(dsn).not.toContain('secret body');
    expect(dsn.endsWith('--B--\r\n')).toBe(true);
    expect(/(?<!\r)\n|\r(?!\n)/.test(dsn)).toBe(false);
  });

  it('should give 4.4.7 for an expired retry window and 5.0.0 for a 5xx without enhanced code', () => {
    expect(dsnStatus({ recipient: 'x@y', diagnostic: '451 4.3.0 try later', expired: true })).toBe('4.4.7');
    expect(dsnStatus({ recipient: 'x@y', diagnostic: '554 no', expired: false })).toBe('5.0.0');
  });
});
