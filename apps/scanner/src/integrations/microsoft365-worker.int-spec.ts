import type { INestApplication } from '@nestjs/common';
import { Queue } from 'bullmq';
import { loadConfig } from '@mailwarden/config';
import { m365DirectorySyncSchedulerId, QueueName, redisOptionsFromUrl } from '@mailwarden/queue';
import { appTestEnv, createTestDatabase, createTestRedis, FakeMicrosoft365, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createScanner } from '../scanner.app';

describe('scanner worker role: Microsoft 365 remediations and directory sync', () => {
  const fake = new FakeMicrosoft365();
  let db: TestDatabase;
  let redis: TestRedis;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    await fake.start();
    db = await createTestDatabase();
    redis = await createTestRedis();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.cleanup();
    await db?.drop();
    await fake.stop();
  });

  it('should pick up a remediation left unfinished when it starts, and re-assert each connected account’s sync schedule', async () => {
    const tenantId = fake.addTenant();
    fake.consent(tenantId);
    const user = fake.addUser(tenantId, { userPrincipalName: 'victim@fabrikam.example' });
    fake.deliver(tenantId, user.id, '<left-behind@evil.example>');
    const factories = new TestFactories(db.prisma);
    const account = await factories.newAccount();
    await factories.newDomain(account, { name: 'fabrikam.example' });
    const message = await factories.newMessage(account, { envelopeTo: ['victim@fabrikam.example'], messageIdHeader: '<left-behind@evil.example>' });
    await db.prisma.m365Connection.create({ data: { accountId: account.id, tenantId, consentedAt: new Date(), consentedBy: 'test', usersDeltaLink: 'x', groupsDeltaLink: 'y' } });
    // As a crashed process leaves it: recorded in PostgreSQL, no job in Redis.
    const remediation = await db.prisma.m365Remediation.create({
      data: {
        accountId: account.id,
        action: 'MOVE_TO_JUNK',
        status: 'IN_PROGRESS',
        requestedBy: 'test',
        items: { create: [{ messageId: message.id, recipient: 'victim@fabrikam.example', internetMessageId: '<left-behind@evil.example>' }] },
      },
    });

    app = await createScanner(
      loadConfig('scanner', await appTestEnv(db, redis, {
        SCANNER_ROLE: 'worker',
        M365_CLIENT_ID: fake.clientId,
        M365_CLIENT_SECRET: fake.clientSecret,
        M365_LOGIN_BASE_URL: fake.baseUrl,
        M365_GRAPH_BASE_URL: fake.baseUrl,
      })),
      false,
    );
    await app.init();

    const until = Date.now() + 30_000;
    let status = 'IN_PROGRESS';
    while (status === 'IN_PROGRESS' && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await db.prisma.m365Remediation.findUniqueOrThrow({ where: { id: remediation.id } })).status;
    }
    expect(status).toBe('COMPLETED');
    expect(fake.locate(tenantId, user.id, '<left-behind@evil.example>')).toEqual([{ folder: 'junkemail', id: expect.any(String) }]);
    const queue = new Queue(QueueName.M365DirectorySync, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    expect((await queue.getJobSchedulers()).map((scheduler) => scheduler.key)).toEqual([m365DirectorySyncSchedulerId(account.id)]);
    await queue.close();
  });
});
