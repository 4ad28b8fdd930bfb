import { randomBytes } from 'node:crypto';
import { ThirdPartyAlertRepository, type PrismaService } from '@mailwarden/db';
import { createTestDatabase, FakeMimecastServer, freePort, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { DATASET_TOTALS, loadDataset } from '../test/mimecast-dataset';
import { MimecastErrorCode } from './mimecast.errors';
import { MimecastPollerService } from './mimecast-poller.service';
import { MimecastService } from './mimecast.service';
import type { MimecastModuleOptions } from './mimecast.options';

const V2 = { clientId: 'client-1', clientSecret: 'very-secret-client-secret' };
const V1 = { appId: 'app-1', appKey: 'app-key-1', accessKey: 'access-1', secretKey: randomBytes(32).toString('base64') };

describe(MimecastService.name, () => {
  let db: TestDatabase;
  let server: FakeMimecastServer;
  let repository: ThirdPartyAlertRepository;
  let factories: TestFactories;
  let service: MimecastService;
  let poller: MimecastPollerService;

  beforeAll(async () => {
    db = await createTestDatabase();
    repository = new ThirdPartyAlertRepository(db.prisma as unknown as PrismaService);
    factories = new TestFactories(db.prisma);
    server = new FakeMimecastServer({ v2: V2, v1: V1 });
    await server.start(await freePort());
    loadDataset(server);
    const options: MimecastModuleOptions = {
      secretsKey: randomBytes(32).toString('base64'),
      allowHttpBaseUrl: true,
      pageSize: 3,
      initialLookbackMs: 4 * 365 * 24 * 3600_000,
      settleMs: 0,
      now: () => new Date('2024-11-18T00:00:00Z'),
    };
    poller = new MimecastPollerService(repository, options);
    service = new MimecastService(repository, poller, options);
  });

  afterAll(async () => {
    await server.stop();
    await db.drop();
  });

  describe('configureConnection', () => {
    it('should store the credentials encrypted and never return them', async () => {
      const account = await factories.newAccount();
      const view = await service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: `${server.baseUrl}/`, credentials: V2, pollIntervalSeconds: 120 });

      expect(view).toMatchObject({ accountId: account.id, apiVersion: 'V2', baseUrl: server.baseUrl, enabled: true, pollIntervalSeconds: 120 });
      expect(JSON.stringify(view)).not.toContain(V2.clientSecret);
      expect(JSON.stringify(await service.getConnection(account.id))).not.toContain(V2.clientSecret);
      const row = await db.prisma.mimecastConnection.findUniqueOrThrow({ where: { accountId: account.id } });
      expect(row.encryptedCredentials).not.toContain(V2.clientSecret);
      expect(row.encryptedCredentials).not.toContain(Buffer.from(V2.clientSecret).toString('base64'));
    });

    it('should refuse incomplete credentials and too short intervals', async () => {
      const account = await factories.newAccount();
      await expect(
        service.configureConnection(account.id, { apiVersion: 'V1', baseUrl: server.baseUrl, credentials: { ...V1, secretKey: '' } }),
      ).rejects.toThrow(/credentials.secretKey/);
      await expect(
        service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2, pollIntervalSeconds: 5 }),
      ).rejects.toThrow(RangeError);
      await expect(service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: 'not a url', credentials: V2 })).rejects.toThrow();
      expect(await service.getConnection(account.id)).toBeNull();
    });

    it('should only send credentials over https unless told otherwise', async () => {
      const strict = new MimecastService(repository, poller, { secretsKey: randomBytes(32).toString('base64') });
      const account = await factories.newAccount();
      const requestsBefore = server.requests.length;
      await expect(strict.configureConnection(account.id, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2 })).rejects.toThrow(
        'baseUrl must be an https URL',
      );
      expect(await strict.testConnection({ apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2 })).toMatchObject({
        ok: false,
        code: 'invalid-settings',
      });
      expect(server.requests).toHaveLength(requestsBefore);
      expect(await strict.getConnection(account.id)).toBeNull();
    });

    it('should start a new cursor history when the tenant changes, keeping the alerts', async () => {
      const account = await factories.newAccount();
      const first = await service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2 });
      await poller.poll(first.id);
      expect(await db.prisma.mimecastPollCursor.count({ where: { connectionId: first.id } })).toBe(3);

      const second = await service.configureConnection(account.id, { apiVersion: 'V1', baseUrl: server.baseUrl, credentials: V1 });

      expect(second.id).toBe(first.id);
      expect(await db.prisma.mimecastPollCursor.count({ where: { connectionId: first.id } })).toBe(0);
      const again = await poller.poll(second.id);
      // The whole history is fetched again through API 1.0 and deduplicated against what API 2.0 stored.
      expect(again.counts).toMatchObject({ stored: 0, duplicates: DATASET_TOTALS.stored });
    });
  });

  describe('testConnection', () => {
    it('should succeed with good settings for both API versions', async () => {
      expect(await service.testConnection({ apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2 })).toEqual({ ok: true });
      expect(await service.testConnection({ apiVersion: 'V1', baseUrl: server.baseUrl, credentials: V1 })).toEqual({ ok: true });
    });

    it('should report refused credentials', async () => {
      expect(
        await service.testConnection({ apiVersion: 'V2', baseUrl: server.baseUrl, credentials: { ...V2, clientSecret: 'wrong' } }),
      ).toMatchObject({ ok: false, code: MimecastErrorCode.Unauthorized });
      expect(
        await service.testConnection({
          apiVersion: 'V1',
          baseUrl: server.baseUrl,
          credentials: { ...V1, secretKey: randomBytes(32).toString('base64') },
        }),
      ).toMatchObject({ ok: false, code: MimecastErrorCode.Unauthorized });
    });

    it('should test the stored connection of an account', async () => {
      const account = await factories.newAccount();
      expect(await service.testConnection(account.id)).toMatchObject({ ok: false, code: 'not-configured' });
      await service.configureConnection(account.id, { apiVersion: 'V1', baseUrl: server.baseUrl, credentials: V1 });
      expect(await service.testConnection(account.id)).toEqual({ ok: true });
    });
  });

  describe('listAlerts', () => {
    let accountId: string;

    beforeAll(async () => {
      const account = await factories.newAccount();
      accountId = account.id;
      const view = await service.configureConnection(accountId, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2 });
      await poller.poll(view.id);
    });

    it('should page through every alert newest first without overlap', async () => {
      const seen: string[] = [];
      const times: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await service.listAlerts(accountId, {}, { cursor, limit: 5 });
        seen.push(...page.items.map((alert) => alert.id));
        times.push(...page.items.map((alert) => alert.occurredAt.getTime()));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(DATASET_TOTALS.stored);
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('should filter by type, MITRE id, sender, recipient and time', async () => {
      expect((await service.listAlerts(accountId, { type: 'Impersonation Attempt' })).items).toHaveLength(5);
      expect((await service.listAlerts(accountId, { mitreId: 'T1598.002' })).items.map((alert) => alert.fileName)).toEqual(['Sandbox Test.xlsx']);
      expect((await service.listAlerts(accountId, { sender: 'GregoryHunt@thejunglegroup.b41.one' })).items).toHaveLength(2);
      expect((await service.listAlerts(accountId, { recipient: 'ann@acme.example' })).items.map((alert) => alert.alertType)).toEqual(['Invalid Recipient']);
      const november = await service.listAlerts(accountId, { from: new Date('2024-11-01T00:00:00Z'), to: new Date('2024-12-01T00:00:00Z') });
      expect(november.items.every((alert) => alert.occurredAt.getUTCFullYear() === 2024 && alert.occurredAt.getUTCMonth() === 10)).toBe(true);
      expect(november.items).toHaveLength(6);
    });

    it('should show an account none of another account’s alerts', async () => {
      const other = await factories.newAccount();
      expect((await service.listAlerts(other.id)).items).toEqual([]);
    });

    it('should refuse a cursor it did not issue', async () => {
      await expect(service.listAlerts(accountId, {}, { cursor: 'bm90LWEtY3Vyc29y' })).rejects.toThrow(RangeError);
    });
  });
});
