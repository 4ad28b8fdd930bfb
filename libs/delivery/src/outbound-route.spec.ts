import { mailExchangersOf, mxRoute, smartHostRoute } from './outbound-route';

describe('smartHostRoute', () => {
  const tls = { requireTls: true, verifyCert: true };

  it('should read host, host:port and IPv6 literals, port 25 by default', () => {
    expect(smartHostRoute('', tls)).toBeNull();
    expect(smartHostRoute('Relay.Example', tls)).toEqual({ host: 'relay.example', port: 25, ...tls });
    expect(smartHostRoute('relay.example:587', tls)).toEqual({ host: 'relay.example', port: 587, ...tls });
    expect(smartHostRoute('[2001:db8::1]:2525', { requireTls: false, verifyCert: false })).toEqual({ host: '2001:db8::1', port: 2525, requireTls: false, verifyCert: false });
  });

  it('should refuse what is not a host', () => {
    expect(() => smartHostRoute('relay.example:25:25', tls)).toThrow(/not a smart host/);
    expect(() => smartHostRoute('smtp://relay.example', tls)).toThrow(/not a smart host/);
  });
});

describe('mailExchangersOf', () => {
  it('should order MX hosts by preference and treat a null MX as no mail (RFC 7505)', () => {
    expect(mailExchangersOf([{ exchange: 'b.mx.example.', priority: 20 }, { exchange: 'A.mx.example', priority: 10 }])).toEqual(['a.mx.example', 'b.mx.example']);
    expect(mailExchangersOf([{ exchange: '.', priority: 0 }])).toEqual([]);
    expect(mailExchangersOf([{ exchange: '', priority: 0 }])).toEqual([]);
  });

  it('should use opportunistic TLS on port 25 towards an MX', () => {
    expect(mxRoute('a.mx.example')).toEqual({ host: 'a.mx.example', port: 25, requireTls: false, verifyCert: false });
  });
});
