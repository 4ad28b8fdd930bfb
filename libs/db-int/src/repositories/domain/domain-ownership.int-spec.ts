import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { DeliveryRepository, PostgresRawMessageStore, type PrismaService } from '@mailwarden/db';

/** Issue 14, domain squatting: only verification claims a name; lookups by name see only the verified owner. */
describe('domain ownership by verification', () => {
  let db: TestDatabase;
  let factories: TestFactories;

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should let several accounts add a name unverified, one hold it verified, and refuse a second verified row', async () => {
    const squatter = await factories.newAccount({ monitorOnly: false });
    const owner = await factories.newAccount({ monitorOnly: false });
    const late = await factories.newAccount({ monitorOnly: false });
    // The squatter adds the name first (unverified, GATEWAY): it blocks no one and receives nothing.
    await factories.newDomain(squatter, { name: 'shared.example', mode: 'GATEWAY', verified: false });
    const owned = await factories.newDomain(owner, { name: 'shared.example', mode: 'GATEWAY', verified: true });
    const lateRow = await factories.newDomain(late, { name: 'shared.example', verified: false });

    const deliveries = new DeliveryRepository(db.prisma as unknown as PrismaService, new PostgresRawMessageStore());
    const found = await deliveries.findRecipientDomain('SHARED.example.');
    expect(found).toMatchObject({ id: owned.id, accountId: owner.id });
    expect(found!.account.domains.map((domain) => domain.id)).toEqual([owned.id]);

    // First to verify wins: a second verified row of the name is refused by the partial unique index.
    await expect(db.prisma.domain.update({ where: { id: lateRow.id }, data: { verificationStatus: 'VERIFIED' } })).rejects.toMatchObject({ code: 'P2002' });
    // Once per account.
    await expect(factories.newDomain(owner, { name: 'shared.example', verified: false })).rejects.toMatchObject({ code: 'P2002' });
  });

  it('should find no owner for a name nobody has verified', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'unclaimed.example', mode: 'GATEWAY', verified: false });
    const deliveries = new DeliveryRepository(db.prisma as unknown as PrismaService, new PostgresRawMessageStore());
    expect(await deliveries.findRecipientDomain('unclaimed.example')).toBeNull();
  });
});
