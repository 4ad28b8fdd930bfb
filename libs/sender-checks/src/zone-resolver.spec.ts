import { ZoneDnsResolver } from './zone-resolver';

describe(ZoneDnsResolver.name, () => {
  const zone = new ZoneDnsResolver({
    'example.org': { TXT: ['v=spf1 -all', ['part one ', 'part two']], A: ['192.0.2.1'] },
    'slow.example.org': { TXT: { error: 'ETIMEOUT' } },
  });

  it('should answer TXT as character-strings per record, like node:dns', async () => {
    expect(await zone.resolve('Example.ORG.', 'txt')).toEqual([['v=spf1 -all'], ['part one ', 'part two']]);
  });

  it('should answer NXDOMAIN as ENOTFOUND and NODATA as ENODATA, and log every query', async () => {
    await expect(zone.resolve('missing.example.org', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(zone.resolve('example.org', 'MX')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(zone.resolve('slow.example.org', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(zone.calls.slice(-3)).toEqual(['TXT missing.example.org', 'MX example.org', 'TXT slow.example.org']);
  });
});
