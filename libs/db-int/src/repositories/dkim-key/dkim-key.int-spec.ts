import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { AuditRepository, DkimKeyRepository, type PrismaService } from '@mailwarden/db';

const actor = { actor: 'test', actorKeyId: null };

describe(DkimKeyRepository.name, () => {
  let db: TestDatabase;
  let keys: DkimKeyRepository;
  let factories: TestFactories;

  beforeAll(async () => {
    db = await createTestDatabase();
    const prisma = db.prisma as unknown as PrismaService;
    keys = new DkimKeyRepository(prisma, new AuditRepository(prisma));
    factories = new TestFactories(db.prisma);
  });

  afterAll(async () => {
    await db?.drop();
  });

  const row = (accountId: string, domainId: string, selector: string) => ({
    id: crypto.randomUUID(),
    accountId,
    domainId,
    selector,
    algorithm: 'ED25519_SHA256' as const,
    dnsRecord: 'v=DKIM1; k=ed25519; p=AAAA',
    encryptedPrivateKey: `v1.secret-${selector}`,
  });

  it("should refuse, in the database itself, a key pairing one tenant's account with another's domain, a bad selector, a reused selector", async () => {
    const a = await factories.newAccount();
    const b = await factories.newAccount();
    const domainA = await factories.newDomain(a, { name: 'a.example' });
    const domainB = await factories.newDomain(b, { name: 'b.example' });
    await expect(db.prisma.dkimKey.create({ data: row(a.id, domainB.id, 's1') })).rejects.toThrow(/dkim_key_domain_id_account_id_fkey|Foreign key/i);
    await expect(db.prisma.dkimKey.create({ data: row(a.id, domainA.id, 'bad_selector') })).rejects.toThrow(/dkim_key_selector_check|check constraint/i);
    await expect(db.prisma.dkimKey.create({ data: { ...row(a.id, domainA.id, 's0'), status: 'ACTIVE' } })).rejects.toThrow(/dkim_key_status_dates_check|check constraint/i);
    await keys.create(row(a.id, domainA.id, 's1'), actor);
    await expect(keys.create(row(a.id, domainA.id, 's1'), actor)).rejects.toMatchObject({ code: 'P2002' });
    // The same selector on another domain is another key.
    await keys.create(row(b.id, domainB.id, 's1'), actor);
    // Removing a domain removes its keys.
    await db.prisma.domain.delete({ where: { id: domainB.id } });
    expect(await db.prisma.dkimKey.count({ where: { accountId: b.id } })).toBe(0);
  });

  it('should give the scanner only the newest ACTIVE key of a VERIFIED domain of the same account, and nobody the private key otherwise', async () => {
    const a = await factories.newAccount();
    const b = await factories.newAccount();
    const domain = await factories.newDomain(a, { name: 'sign.example' });
    const pending = await keys.create(row(a.id, domain.id, 'pending'), actor);
    expect(await keys.findSigningKey(a.id, 'sign.example')).toBeNull();

    const older = await keys.create(row(a.id, domain.id, 'older'), actor);
    await keys.recordCheck(a.id, domain.id, older.id, { matched: true, evidence: {} }, actor);
    // Activated an hour ago (two activations in one millisecond would tie).
    await db.prisma.dkimKey.update({ where: { id: older.id }, data: { activatedAt: new Date(Date.now() - 3_600_000) } });
    const newer = await keys.create(row(a.id, domain.id, 'newer'), actor);
    await keys.recordCheck(a.id, domain.id, newer.id, { matched: true, evidence: {} }, actor);
    expect(await keys.findSigningKey(a.id, 'sign.example')).toEqual({ id: newer.id, accountId: a.id, domain: 'sign.example', selector: 'newer', encryptedPrivateKey: 'v1.secret-newer' });
    // Another account asking for the same name gets nothing, whatever it claims.
    expect(await keys.findSigningKey(b.id, 'sign.example')).toBeNull();

    await keys.retire(a.id, domain.id, newer.id, actor);
    expect((await keys.findSigningKey(a.id, 'sign.example'))?.selector).toBe('older');
    // A retired key is not activated again by a matching check.
    expect((await keys.recordCheck(a.id, domain.id, newer.id, { matched: true, evidence: {} }, actor))?.status).toBe('RETIRED');
    // An unverified domain signs nothing (the name may be someone else's now).
    await db.prisma.domain.update({ where: { id: domain.id }, data: { verificationStatus: 'FAILED' } });
    expect(await keys.findSigningKey(a.id, 'sign.example')).toBeNull();

    expect(Object.keys((await keys.find(a.id, domain.id, pending.id))!)).not.toContain('encryptedPrivateKey');
    const listed = await keys.list(a.id, domain.id, { limit: 10 });
    expect(listed.map((key) => key.selector)).toEqual(['newer', 'older', 'pending']);
    expect(JSON.stringify(listed)).not.toContain('v1.secret');
    expect(JSON.stringify(await db.prisma.auditEvent.findMany({ where: { objectType: 'dkim_key' } }), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))).not.toContain('v1.secret');
    // Another account's ids find nothing.
    expect(await keys.find(b.id, domain.id, pending.id)).toBeNull();
    expect(await keys.retire(b.id, domain.id, pending.id, actor)).toBeNull();
  });
});
