import { downstreamHostProblem, stripAddressLiteral } from './downstream-host';

describe(downstreamHostProblem.name, () => {
  it.each(['smtp.contoso.example', '192.0.2.25', '10.1.2.3', '[192.0.2.25]', '2001:db8::25', '[2001:db8::25]', '[IPv6:2001:db8::25]'])('should accept %s', (host) => {
    expect(downstreamHostProblem(host)).toBeNull();
  });

  it.each(['127.0.0.1', '127.8.9.1', '0.0.0.0', '169.254.169.254', '224.0.0.1', '255.255.255.255', '::1', '[::1]', '::', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1'])(
    'should refuse %s (never a downstream)',
    (host) => {
      expect(downstreamHostProblem(host)).toMatch(/never a downstream/);
    },
  );

  it.each(['not a host', 'localhost', '', '[example.com]', '192.0.2', 'x'.repeat(254), 42])('should refuse %p as neither a domain name nor an address', (host) => {
    expect(downstreamHostProblem(host)).toBe('host must be a domain name or an IP address');
  });

  it('should strip the brackets of an address literal only', () => {
    expect(stripAddressLiteral('[2001:DB8::25]')).toBe('2001:db8::25');
    expect(stripAddressLiteral('[IPv6:2001:db8::25]')).toBe('2001:db8::25');
    expect(stripAddressLiteral('[example.com]')).toBe('[example.com]');
  });
});
