import { isAddress, mailboxAddress, parseAddressList, splitTopLevel } from './address-list';

describe(parseAddressList.name, () => {
  it('should read display names, quoted commas and comments', () => {
    expect(parseAddressList(' Bob <bob@x.com>, "Doe, Carol" <carol@y.org>,\r\n\tdave@x.com (Dave)')).toEqual([
      'bob@x.com',
      'carol@y.org',
      'dave@x.com',
    ]);
  });

  it('should flatten groups and skip empty ones', () => {
    expect(parseAddressList('team: a@x.com, b@x.com;, undisclosed-recipients:;, c@x.com')).toEqual(['a@x.com', 'b@x.com', 'c@x.com']);
  });

  it('should drop an obsolete source route', () => {
    expect(parseAddressList('<@relay.example:a@x.com>')).toEqual(['a@x.com']);
  });

  it('should rejoin a display name split by an unquoted comma', () => {
    expect(parseAddressList('Doe, John <j@x.com>, =?utf-8?Q?M=C3=BCller,_Anna?= <a@x.com>')).toEqual(['j@x.com', 'a@x.com']);
  });

  it('should give nothing for an empty value', () => {
    expect(parseAddressList('  ')).toEqual([]);
  });
});

describe(mailboxAddress.name, () => {
  it('should give the empty string for the null path', () => {
    expect(mailboxAddress(' <> ')).toBe('');
  });

  it('should take the addr-spec inside angle brackets', () => {
    expect(mailboxAddress('"Ex <am> ple" <a@x.com>')).toBe('a@x.com');
  });
});

describe(splitTopLevel.name, () => {
  it('should not split inside quotes, comments or angle brackets', () => {
    expect(splitTopLevel('"a,b" <c,d> (e,f), g')).toEqual(['"a,b" <c,d> (e,f)', ' g']);
  });
});

describe(isAddress.name, () => {
  it('should accept addresses and refuse the rest', () => {
    expect(isAddress('a@x.com')).toBe(true);
    expect(isAddress('a@')).toBe(false);
    expect(isAddress('@x')).toBe(false);
    expect(isAddress('a b@x')).toBe(false);
    expect(isAddress('/o=ExchangeLabs/ou=Exchange Administrative Group')).toBe(false);
  });
});
