import { checkMx, lookupMx } from './mx.check';

const coded = (code: string) => Object.assign(new Error(code), { code });

describe(checkMx.name, () => {
  const zone: Record<string, unknown[] | Error> = {
    'here.example': [{ exchange: 'backup.example', priority: 20 }, { exchange: 'MX.Mailwarden.Example.', priority: 10 }],
    'away.example': [{ exchange: 'mail.away.example', priority: 10 }],
    'none.example': coded('ENODATA'),
    'broken.example': coded('ETIMEOUT'),
  };
  const resolve = async (name: string, rrtype: string) => {
    expect(rrtype).toBe('MX');
    const answer = zone[name] ?? coded('ENOTFOUND');
    if (answer instanceof Error) {
      throw answer;
    }
    return answer;
  };

  it('should sort exchanges by preference and treat NXDOMAIN / NODATA as no records', async () => {
    expect(await lookupMx(resolve, 'here.example')).toEqual({ domain: 'here.example', exchanges: ['mx.mailwarden.example', 'backup.example'] });
    expect(await lookupMx(resolve, 'none.example')).toEqual({ domain: 'none.example', exchanges: [] });
    expect(await lookupMx(resolve, 'broken.example')).toEqual({ domain: 'broken.example', exchanges: [], error: 'ETIMEOUT' });
  });

  it('should pass "points-here" only when every domain names the host', async () => {
    expect((await checkMx(resolve, ['here.example'], 'mx.mailwarden.example', 'points-here')).passed).toBe(true);
    const failed = await checkMx(resolve, ['here.example', 'away.example'], 'mx.mailwarden.example', 'points-here');
    expect(failed.passed).toBe(false);
    expect(failed.message).toMatch(/away\.example \(mail\.away\.example\)/);
  });

  it('should pass "points-away" only when each domain has MX records and none names the host', async () => {
    expect((await checkMx(resolve, ['away.example'], 'mx.mailwarden.example', 'points-away')).passed).toBe(true);
    expect((await checkMx(resolve, ['here.example'], 'mx.mailwarden.example', 'points-away')).passed).toBe(false);
    expect((await checkMx(resolve, ['none.example'], 'mx.mailwarden.example', 'points-away')).passed).toBe(false);
    const broken = await checkMx(resolve, ['broken.example'], 'mx.mailwarden.example', 'points-away');
    expect(broken).toMatchObject({ passed: false, available: true });
    expect(broken.message).toMatch(/lookup failed: ETIMEOUT/);
  });
});
