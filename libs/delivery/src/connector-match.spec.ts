import { normalizeClientIp } from '@mailwarden/smtp';
import { ipInRanges, matchesConnector } from './connector-match';

describe(matchesConnector.name, () => {
  const connector = { sourceIps: ['40.92.0.0/15', '2a01:111:f400::/48', '192.0.2.7'], tlsCertName: 'mail.protection.outlook.com' };

  it('should recognise the connector by source range, IPv4-mapped addresses included', () => {
    expect(matchesConnector({ clientIp: '40.93.10.1', tlsCertNames: [] }, connector)).toBe(true);
    expect(matchesConnector({ clientIp: '::ffff:40.92.1.1', tlsCertNames: [] }, connector)).toBe(true);
    expect(matchesConnector({ clientIp: '2a01:111:f400:7e00::1', tlsCertNames: [] }, connector)).toBe(true);
    expect(matchesConnector({ clientIp: '192.0.2.7', tlsCertNames: [] }, connector)).toBe(true);
    expect(matchesConnector({ clientIp: '40.94.0.1', tlsCertNames: [] }, connector)).toBe(false);
  });

  it('should recognise the connector by its verified certificate name, wildcards by one label only', () => {
    expect(matchesConnector({ clientIp: '198.51.100.1', tlsCertNames: ['mail.protection.outlook.com'] }, connector)).toBe(true);
    expect(matchesConnector({ clientIp: '198.51.100.1', tlsCertNames: ['*.protection.outlook.com'] }, connector)).toBe(true);
    expect(matchesConnector({ clientIp: '198.51.100.1', tlsCertNames: ['*.outlook.com'] }, connector)).toBe(false);
    expect(matchesConnector({ clientIp: '198.51.100.1', tlsCertNames: ['evil.example'] }, connector)).toBe(false);
  });

  it('should match nothing without a connector or with an empty one', () => {
    expect(matchesConnector({ clientIp: '40.93.10.1', tlsCertNames: [] }, null)).toBe(false);
    expect(matchesConnector({ clientIp: '40.93.10.1', tlsCertNames: ['x'] }, { sourceIps: [], tlsCertName: null })).toBe(false);
  });

  it('should skip malformed ranges', () => {
    expect(ipInRanges('10.0.0.1', ['not-an-ip', '10.0.0.0/99', '10.0.0.0/8'])).toBe(true);
    expect(normalizeClientIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });
});
