import { Logger } from '@nestjs/common';
import type { DeliveryRepository } from '@mailwarden/db';
import { DeliveryClaims } from './delivery-claims.service';
import { DEFAULT_DELIVERY_TUNING } from './delivery.options';

// PostgreSQL's side (renewal and release compare-and-set) is in libs/db-int delivery-claims; this is the process's side.
function setup() {
  const repository = {
    renewClaims: jest.fn(async (_claims: ReadonlyArray<{ messageId: string; recipient: string; claimedUntil: Date }>, _leaseMs: number) => [] as Array<{ messageId: string; recipient: string; claimedUntil: Date }>),
    releaseClaims: jest.fn(async () => undefined),
  };
  return { repository, claims: new DeliveryClaims(repository as unknown as DeliveryRepository, DEFAULT_DELIVERY_TUNING) };
}

describe(DeliveryClaims.name, () => {
  beforeAll(() => Logger.overrideLogger(false));
  const lease = DEFAULT_DELIVERY_TUNING.claimLeaseMs;

  it('should hold a copy only while more than a quarter of the lease is left', () => {
    const { claims } = setup();
    expect(claims.hold('m1', ['Bob@acme.example'], new Date(Date.now() + lease)).holds('bob@acme.example')).toBe(true);
    expect(claims.hold('m2', ['bob@acme.example'], new Date(Date.now() + lease / 4 - 1_000)).holds('bob@acme.example')).toBe(false);
    expect(claims.hold('m3', ['bob@acme.example'], new Date(Date.now() + lease)).holds('carol@acme.example')).toBe(false);
  });

  it('should renew every claim held in one statement, keep the new value and drop what was not renewed (lost)', async () => {
    const { claims, repository } = setup();
    const first = new Date(Date.now() + 1_000);
    const one = claims.hold('m1', ['a@acme.example', 'b@acme.example'], first);
    const two = claims.hold('m2', ['c@acme.example'], first);
    const renewedUntil = new Date(Date.now() + lease);
    repository.renewClaims.mockResolvedValueOnce([
      { messageId: 'm1', recipient: 'a@acme.example', claimedUntil: renewedUntil },
      { messageId: 'm1', recipient: 'b@acme.example', claimedUntil: renewedUntil },
    ]);
    expect(await claims.renew()).toBe(2);
    expect(repository.renewClaims).toHaveBeenCalledTimes(1);
    expect(repository.renewClaims.mock.calls[0]![0].map(({ messageId, recipient, claimedUntil }) => [messageId, recipient, claimedUntil])).toEqual([
      ['m1', 'a@acme.example', first],
      ['m1', 'b@acme.example', first],
      ['m2', 'c@acme.example', first],
    ]);
    expect(repository.renewClaims.mock.calls[0]![1]).toBe(lease);
    expect([one.until, one.holds('a@acme.example'), one.holds('b@acme.example')]).toEqual([renewedUntil, true, true]);
    expect([two.held, two.holds('c@acme.example')]).toEqual([[], false]);

    // A recorded copy leaves the claim; an ended claim is no longer renewed; nothing held: no statement.
    one.drop(['a@acme.example']);
    claims.end(two);
    repository.renewClaims.mockResolvedValueOnce([{ messageId: 'm1', recipient: 'b@acme.example', claimedUntil: renewedUntil }]);
    await claims.renew();
    expect(repository.renewClaims.mock.calls[1]![0].map(({ recipient }) => recipient)).toEqual(['b@acme.example']);
    claims.end(one);
    expect(await claims.renew()).toBe(0);
    expect(repository.renewClaims).toHaveBeenCalledTimes(2);
  });

  it('should not let a run that lost a copy take the renewal of the run of the same process that took it over', async () => {
    const { claims, repository } = setup();
    const stale = claims.hold('m1', ['a@acme.example'], new Date(Date.now() - 1_000)); // ran out while its run stalled
    const taken = new Date(Date.now() + lease);
    const takeover = claims.hold('m1', ['a@acme.example'], taken); // this process's job took it
    const renewedUntil = new Date(Date.now() + lease + 30_000);
    repository.renewClaims.mockResolvedValueOnce([{ messageId: 'm1', recipient: 'a@acme.example', claimedUntil: renewedUntil }]);
    await claims.renew();
    // Asked once, with the later value (only it can still be a claim).
    expect(repository.renewClaims.mock.calls[0]![0]).toEqual([{ messageId: 'm1', recipient: 'a@acme.example', claimedUntil: taken }]);
    expect([stale.held, stale.holds('a@acme.example')]).toEqual([[], false]);
    expect([takeover.until, takeover.holds('a@acme.example')]).toEqual([renewedUntil, true]);
  });

  it('should leave a copy whose outcome is being recorded out of the renewals, and not count it lost', async () => {
    const { claims, repository } = setup();
    const claim = claims.hold('m1', ['a@acme.example', 'b@acme.example'], new Date(Date.now() + lease));
    let recorded!: () => void;
    const recording = claim.settling(['a@acme.example'], () => new Promise<void>((resolve) => (recorded = resolve)));
    repository.renewClaims.mockResolvedValueOnce([{ messageId: 'm1', recipient: 'b@acme.example', claimedUntil: new Date(Date.now() + lease + 1_000) }]);
    await claims.renew();
    expect(repository.renewClaims.mock.calls[0]![0].map(({ recipient }) => recipient)).toEqual(['b@acme.example']);
    expect(claim.held).toEqual(['a@acme.example', 'b@acme.example']);
    recorded();
    await recording;
    expect(claim.renewable).toEqual(['a@acme.example', 'b@acme.example']);
  });

  it('should release only copies still held, with the value this process set', async () => {
    const { claims, repository } = setup();
    const until = new Date(Date.now() + lease);
    const claim = claims.hold('m1', ['a@acme.example', 'b@acme.example'], until);
    claim.drop(['b@acme.example']);
    await claims.release(claim, ['a@acme.example', 'b@acme.example']);
    expect(repository.releaseClaims).toHaveBeenCalledWith('m1', ['a@acme.example'], until);
    expect(claim.held).toEqual([]);
    await claims.release(claim, ['a@acme.example']);
    expect(repository.releaseClaims).toHaveBeenCalledTimes(1);
  });
});
