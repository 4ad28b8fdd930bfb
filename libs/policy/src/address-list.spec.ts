import { domainOfAddress, matchAddressList, normalizeAddress } from './address-list';

describe(matchAddressList.name, () => {
  const list = { domains: ['example.com', 'mail.example.com', 'Other.Example.'], addresses: ['Boss@Example.com'] };

  it('should prefer an exact address over any domain entry', () => {
    expect(matchAddressList(list, '<boss@EXAMPLE.com>')).toEqual({ entry: 'boss@example.com', kind: 'address', specificity: Infinity });
  });

  it('should match a domain entry for the domain and its subdomains, the longest entry winning', () => {
    expect(matchAddressList(list, 'a@example.com')).toEqual({ entry: 'example.com', kind: 'domain', specificity: 2 });
    expect(matchAddressList(list, 'a@x.mail.example.com')).toEqual({ entry: 'mail.example.com', kind: 'domain', specificity: 3 });
    expect(matchAddressList(list, 'a@other.example')).toMatchObject({ entry: 'other.example' });
  });

  it('should not match a look-alike domain that only ends with the same characters', () => {
    expect(matchAddressList(list, 'a@badexample.com')).toBeNull();
  });

  it('should not match the null sender or an address without a domain', () => {
    expect(matchAddressList(list, '<>')).toBeNull();
    expect(matchAddressList(list, null)).toBeNull();
    expect(matchAddressList(list, 'postmaster')).toBeNull();
  });
});

describe(normalizeAddress.name, () => {
  it('should strip brackets, lower-case, and map the null reverse-path to null', () => {
    expect(normalizeAddress(' <Ann@Example.COM> ')).toBe('ann@example.com');
    expect(normalizeAddress('<>')).toBeNull();
    expect(normalizeAddress('')).toBeNull();
    expect(domainOfAddress('"a@b"@Example.COM.')).toBe('example.com');
  });
});
