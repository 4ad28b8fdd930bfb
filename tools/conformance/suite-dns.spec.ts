import { openSpfResolver, parseFakeDns, splitKeyRecordsAndMessage, toCrlf, zonefileResolver } from './suite-dns';

describe(openSpfResolver.name, () => {
  const resolve = openSpfResolver({
    'example.com': [{ SPF: 'v=spf1 -all' }, { A: '192.0.2.1' }],
    'txt-none.example.com': [{ SPF: 'v=spf1 +all' }, { TXT: 'NONE' }],
    'partial.example.com': [{ A: '192.0.2.2' }, 'TIMEOUT'],
    'typed.example.com': [{ TXT: 'TIMEOUT' }, { A: '192.0.2.3' }],
    'alias.example.com': [{ CNAME: 'example.com' }],
    'loop1.example.com': [{ CNAME: 'loop2.example.com' }],
    'loop2.example.com': [{ CNAME: 'loop1.example.com' }],
    'mx.example.com': [{ MX: [10, 'Mail.Example.com.'] }],
  });

  it('should copy SPF records to TXT unless the name lists TXT (even TXT: NONE)', async () => {
    expect(await resolve('example.com', 'TXT')).toEqual([['v=spf1 -all']]);
    await expect(resolve('txt-none.example.com', 'TXT')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('should time out per the TIMEOUT conventions', async () => {
    expect(await resolve('partial.example.com', 'A')).toEqual(['192.0.2.2']);
    await expect(resolve('partial.example.com', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await expect(resolve('typed.example.com', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(await resolve('typed.example.com', 'A')).toEqual(['192.0.2.3']);
  });

  it('should follow CNAMEs, fail loops, and refuse invalid names', async () => {
    expect(await resolve('alias.example.com', 'A')).toEqual(['192.0.2.1']);
    await expect(resolve('loop1.example.com', 'A')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await expect(resolve(`${'a'.repeat(64)}.example.com`, 'A')).rejects.toMatchObject({ code: 'EBADNAME' });
    await expect(resolve('missing.example.com', 'A')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(await resolve('mx.example.com', 'MX')).toEqual([{ priority: 10, exchange: 'mail.example.com' }]);
  });
});

describe(parseFakeDns.name, () => {
  it('should read records, timeouts and SERVFAILs, leaving NXDOMAIN names out', () => {
    const table = parseFakeDns('# comment\nsel._domainkey.a.example  v=DKIM1; p=abc\nx.a.example NXDOMAIN\nt.a.example ~~Query timed out~~\ns.a.example ~~SERVFAIL~~\ne.a.example ""\n');
    expect([...table.entries()]).toEqual([
      ['sel._domainkey.a.example', { txt: ['v=DKIM1; p=abc'] }],
      ['t.a.example', { error: 'ETIMEOUT' }],
      ['s.a.example', { error: 'ESERVFAIL' }],
      ['e.a.example', { txt: [''] }],
    ]);
  });

  it('should split stalwart files into key records and a CRLF message', () => {
    const { table, message } = splitKeyRecordsAndMessage('k._domainkey.b.example v=DKIM1; p=xyz\n\nFrom: a@b.example\nSubject: s\n\nbody\n');
    expect(table.get('k._domainkey.b.example')).toEqual({ txt: ['v=DKIM1; p=xyz'] });
    expect(message.toString()).toBe('From: a@b.example\r\nSubject: s\r\n\r\nbody\r\n');
    expect(toCrlf('a\r\nb\n').toString()).toBe('a\r\nb\r\n');
  });
});

describe(zonefileResolver.name, () => {
  const resolve = zonefileResolver(
    [
      ';ERROR,_dmarc.example.com,TXT,NXDOMAIN',
      '_dmarc.ok.example.\t300\tIN\tTXT\t( "v=DMARC1; " "p=none" )',
      'ok.example. 600 IN A 10.0.0.1',
      'ok.example. MX 10 mx.ok.example.',
      'www.ok.example. 600 IN CNAME ok.example.',
      '_domainkey.odd.example TXT',
    ].join('\n'),
  );

  it('should answer zone-file records, error lines and CNAMEs', async () => {
    expect(await resolve('_dmarc.ok.example', 'TXT')).toEqual([['v=DMARC1; ', 'p=none']]);
    expect(await resolve('ok.example', 'MX')).toEqual([{ priority: 10, exchange: 'mx.ok.example' }]);
    expect(await resolve('www.ok.example', 'A')).toEqual(['10.0.0.1']);
    await expect(resolve('_dmarc.example.com', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolve('_domainkey.odd.example', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});
