import { ClientLimits } from './client-limits';

describe(ClientLimits.name, () => {
  it('should refuse a connection over the per-client limit with 421 and accept it again after a release', () => {
    const limits = new ClientLimits({ maxConnectionsPerClient: 2, maxMessagesPerMinutePerClient: 10 });
    expect(limits.acquireConnection('192.0.2.1')).toBeNull();
    expect(limits.acquireConnection('192.0.2.1')).toBeNull();
    expect(limits.acquireConnection('192.0.2.1')).toMatchObject({ responseCode: 421 });
    expect(limits.acquireConnection('192.0.2.2')).toBeNull();
    limits.releaseConnection('192.0.2.1');
    expect(limits.acquireConnection('192.0.2.1')).toBeNull();
  });

  it('should answer 451 past the messages-per-minute limit and reset with the next window', () => {
    let now = 0;
    const limits = new ClientLimits({ maxConnectionsPerClient: 1, maxMessagesPerMinutePerClient: 2, now: () => now });
    expect(limits.countMessage('192.0.2.1')).toBeNull();
    expect(limits.countMessage('192.0.2.1')).toBeNull();
    expect(limits.countMessage('192.0.2.1')).toMatchObject({ responseCode: 451, message: expect.stringMatching(/^4\.7\.1/) });
    now += 60_000;
    expect(limits.countMessage('192.0.2.1')).toBeNull();
  });
});
