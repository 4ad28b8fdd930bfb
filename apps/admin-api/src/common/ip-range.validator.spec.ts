import { ipRangeProblem } from './ip-range.validator';

describe(ipRangeProblem.name, () => {
  it('should accept addresses and CIDR ranges of both families', () => {
    for (const value of ['203.0.113.7', '40.92.0.0/15', '2a01:111:f400::/48', '2001:db8::1']) {
      expect(ipRangeProblem(value)).toBeNull();
    }
  });

  it('should refuse garbage, bad prefixes and ranges too broad to trust', () => {
    expect(ipRangeProblem('mail.example')).toMatch(/IP address or CIDR/);
    expect(ipRangeProblem('10.0.0.0/33')).toMatch(/prefix length/);
    expect(ipRangeProblem('10.0.0.0/8/1')).toMatch(/IP address or CIDR/);
    expect(ipRangeProblem('0.0.0.0/0')).toMatch(/too broad/);
    expect(ipRangeProblem('::/0')).toMatch(/too broad/);
    expect(ipRangeProblem(42)).toMatch(/IP address or CIDR/);
  });
});
