import { alertTypeFor, mitreFor, MIMECAST_MITRE_MAPPING } from './mitre-mapping';
import { MimecastLogKind, type AttachmentLog, type ImpersonationLog, type UrlClickLog } from './mimecast.types';

const URL_LOG: UrlClickLog = {
  userEmailAddress: 'ann@acme.example',
  fromUserEmailAddress: 'bad@evil.example',
  url: 'https://evil.example/x',
  scanResult: 'malicious',
  date: '2024-11-17T17:02:30+0000',
};

describe('mitreFor', () => {
  // The table of issue 7, row by row.
  it.each([
    ['Impersonation Attempt', 'T1598.003', 'Spearphishing Link'],
    ['Unsafe Email Attachment', 'T1598.002', 'Spearphishing Attachment'],
    ['URL Protection', 'T1598.003', 'Spearphishing Link'],
    ['Default URL Protection', 'T1598.003', 'Spearphishing Link'],
    ['Default Inbound URL Protect Definition', 'T1598.003', 'Spearphishing Link'],
    ['Anti-Spoofing policy - Inbound not allowed', 'T1598.003', 'Spearphishing Link'],
    ['IP Temporarily Blacklisted', 'TA0001', 'Initial Access'],
    ['Submitter failed to authenticate', 'T1078', 'Valid Accounts'],
    ['Invalid Recipient', 'TA0005', 'Defense Evasion'],
    ['Exceeding outbound thread limit', 'T1041', 'Exfiltration Over C2 Channel'],
    ['Message bounced due to Content Examination Policy', 'T1598', 'Phishing for Information'],
  ])('should map %s to %s %s', (alertType, id, name) => {
    expect(mitreFor(alertType)).toEqual({ id, name });
  });

  it('should hold exactly the rows of the issue table', () => {
    expect(MIMECAST_MITRE_MAPPING.size).toBe(11);
  });

  it('should match alert types whatever their case and spacing', () => {
    expect(mitreFor('  invalid   recipient ')).toEqual({ id: 'TA0005', name: 'Defense Evasion' });
  });

  it('should return null for an alert type the table does not know', () => {
    expect(mitreFor('Default Internal URL Protect Definition')).toBeNull();
    expect(mitreFor('')).toBeNull();
  });
});

describe('alertTypeFor', () => {
  it('should type every attachment log as an unsafe email attachment', () => {
    const log = { senderAddress: 'a@b', recipientAddress: 'c@d', result: 'malicious', date: '2024-11-17T00:52:30+0000', definition: 'X' };
    expect(alertTypeFor(MimecastLogKind.Attachment, log as AttachmentLog)).toBe('Unsafe Email Attachment');
  });

  it('should type every impersonation log as an impersonation attempt', () => {
    const log = { senderAddress: 'a@b', recipientAddress: 'c@d', action: 'hold', eventTime: '2021-10-13T16:12:07+0000' };
    expect(alertTypeFor(MimecastLogKind.Impersonation, log as ImpersonationLog)).toBe('Impersonation Attempt');
  });

  it('should use the creation method of a URL log without a TTP definition', () => {
    expect(alertTypeFor(MimecastLogKind.Url, { ...URL_LOG, ttpDefinition: '', creationMethod: 'Default URL Protection' })).toBe(
      'Default URL Protection',
    );
    expect(alertTypeFor(MimecastLogKind.Url, { ...URL_LOG, creationMethod: 'User Click' })).toBe('User Click');
  });

  it('should use the reason of a URL log with a TTP definition', () => {
    expect(
      alertTypeFor(MimecastLogKind.Url, {
        ...URL_LOG,
        ttpDefinition: 'Default Inbound URL Protect Definition',
        reason: 'IP Temporarily Blacklisted',
        creationMethod: 'Entry Scan',
      }),
    ).toBe('IP Temporarily Blacklisted');
  });

  it('should fall back to the TTP definition of a URL log without a reason', () => {
    expect(
      alertTypeFor(MimecastLogKind.Url, { ...URL_LOG, ttpDefinition: 'Default Inbound URL Protect Definition', creationMethod: 'Entry Scan' }),
    ).toBe('Default Inbound URL Protect Definition');
  });

  it('should call a URL log that names nothing URL Protection', () => {
    expect(alertTypeFor(MimecastLogKind.Url, URL_LOG)).toBe('URL Protection');
  });
});
