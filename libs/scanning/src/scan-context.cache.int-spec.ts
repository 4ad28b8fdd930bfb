import { ScanContextRepository, type PrismaService } from '@mailwarden/db';
import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { ScanContextCache } from './scan-context.cache';

const TTL_MS = 300;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(ScanContextCache.name, () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let cache: ScanContextCache;

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    cache = new ScanContextCache(new ScanContextRepository(db.prisma as unknown as PrismaService), TTL_MS);
  });

  afterAll(async () => {
    await db?.drop();
  });

  const accountPolicy = (accountId: string, kind: 'EMAIL_SECURITY' | 'DATA_CONTROL') => factories.newAccountPolicy({ id: accountId }, kind);

  it('should share one query between concurrent callers and reuse the rows until the TTL has passed', async () => {
    const account = await factories.newAccount();
    await accountPolicy(account.id, 'EMAIL_SECURITY');
    const [first, second] = [cache.loadPolicies(account.id, null), cache.loadPolicies(account.id, null)];
    expect(first).toBe(second);
    expect(await first).toHaveLength(1);

    await accountPolicy(account.id, 'DATA_CONTROL');
    expect(await cache.loadPolicies(account.id, null)).toHaveLength(1);
    await pause(TTL_MS + 50);
    expect(await cache.loadPolicies(account.id, null)).toHaveLength(2);
  });

  it('should cache that an address is not a mailbox, and see a new mailbox after the TTL', async () => {
    const account = await factories.newAccount();
    const group = await db.prisma.group.create({ data: { accountId: account.id, name: 'finance' } });
    const known = await db.prisma.user.create({ data: { accountId: account.id, email: 'known@customer.example' } });
    await db.prisma.groupMembership.create({ data: { groupId: group.id, userId: known.id } });

    const before = await cache.findMailboxes(account.id, ['Known@Customer.example', 'new@customer.example']);
    expect([...before.keys()]).toEqual(['known@customer.example']);
    expect(before.get('known@customer.example')).toEqual({ email: 'known@customer.example', userId: known.id, groupIds: [group.id] });

    const created = await db.prisma.user.create({ data: { accountId: account.id, email: 'new@customer.example' } });
    expect((await cache.findMailboxes(account.id, ['new@customer.example'])).size).toBe(0);
    await pause(TTL_MS + 50);
    expect((await cache.findMailboxes(account.id, ['new@customer.example'])).get('new@customer.example')?.userId).toBe(created.id);
  });

  it('should keep accounts apart', async () => {
    const [one, two] = [await factories.newAccount(), await factories.newAccount()];
    await accountPolicy(one.id, 'EMAIL_SECURITY');
    expect(await cache.loadPolicies(one.id, null)).toHaveLength(1);
    expect(await cache.loadPolicies(two.id, null)).toHaveLength(0);
  });
});
