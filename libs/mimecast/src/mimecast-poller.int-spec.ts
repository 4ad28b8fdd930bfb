import { randomBytes } from 'node:crypto';
import { THIRD_PARTY_ALERT_TOPIC, ThirdPartyAlertRepository, type PrismaService, type ThirdPartyAlert } from '@mailwarden/db';
import { createTestDatabase, FakeMimecastServer, freePort, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { DATASET_TOTALS, loadDataset } from '../test/mimecast-dataset';
import { MimecastPollerService, MimecastPollStatus } from './mimecast-poller.service';
import { MimecastService } from './mimecast.service';
import type { MimecastModuleOptions } from './mimecast.options';

const V2 = { clientId: 'client-1', clientSecret: 'secret-1' };
const V1 = { appId: 'app-1', appKey: 'app-key-1', accessKey: 'access-1', secretKey: randomBytes(32).toString('base64') };
const URL_PATH = '/api/ttp/url/get-logs';
const ATTACHMENT_PATH = '/api/ttp/attachment/get-logs';
const IMPERSONATION_PATH = '/api/ttp/impersonation/get-logs';

const comparable = (alerts: ThirdPartyAlert[]) =>
  alerts
    .map(({ id: _id, accountId: _account, createdAt: _created, ...rest }) => rest)
    .sort((a, b) => a.dedupHash.localeCompare(b.dedupHash));

describe(MimecastPollerService.name, () => {
  let db: TestDatabase;
  let server: FakeMimecastServer;
  let repository: ThirdPartyAlertRepository;
  let factories: TestFactories;
  let clock: Date;
  let sleeps: number[];
  let options: MimecastModuleOptions;

  const newPoller = (overrides: Partial<MimecastModuleOptions> = {}) => new MimecastPollerService(repository, { ...options, ...overrides });
  const newService = (poller = newPoller()) => new MimecastService(repository, poller, options);

  async function connect(apiVersion: 'V1' | 'V2') {
    const account = await factories.newAccount();
    const view =
      apiVersion === 'V2'
        ? await newService().configureConnection(account.id, { apiVersion, baseUrl: server.baseUrl, credentials: V2 })
        : await newService().configureConnection(account.id, { apiVersion, baseUrl: server.baseUrl, credentials: V1 });
    return { accountId: account.id, connectionId: view.id };
  }

  const alertsOf = (accountId: string) => db.prisma.thirdPartyAlert.findMany({ where: { accountId } });

  beforeAll(async () => {
    db = await createTestDatabase();
    repository = new ThirdPartyAlertRepository(db.prisma as unknown as PrismaService);
    factories = new TestFactories(db.prisma);
  });

  afterAll(async () => {
    await db.drop();
  });

  beforeEach(async () => {
    server = new FakeMimecastServer({ v2: V2, v1: V1 });
    await server.start(await freePort());
    loadDataset(server);
    clock = new Date('2024-11-18T00:00:00Z');
    sleeps = [];
    options = {
      secretsKey: randomBytes(32).toString('base64'),
      allowHttpBaseUrl: true,
      pageSize: 2,
      initialLookbackMs: 4 * 365 * 24 * 3600_000,
      settleMs: 0,
      now: () => clock,
      client: {
        backoffBaseMs: 10,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    };
  });

  afterEach(async () => {
    await server.stop();
  });

  it('should store the same alerts through API 2.0 and API 1.0', async () => {
    const v2 = await connect('V2');
    const v1 = await connect('V1');

    const v2Result = await newPoller().poll(v2.connectionId);
    const v1Result = await newPoller().poll(v1.connectionId);

    expect(v2Result).toMatchObject({ status: MimecastPollStatus.Succeeded, errors: [], counts: { ...DATASET_TOTALS, pages: 12 } });
    expect(v1Result.counts).toEqual(v2Result.counts);
    const v2Alerts = await alertsOf(v2.accountId);
    expect(v2Alerts).toHaveLength(DATASET_TOTALS.stored);
    expect(comparable(await alertsOf(v1.accountId))).toEqual(comparable(v2Alerts));
    // Each API version authenticated its own way.
    expect(server.requests.filter((request) => request.path === '/oauth/token')).toHaveLength(1);
    expect(server.requests.filter((request) => request.headers.authorization?.startsWith('MC access-1:'))).toHaveLength(12);
  });

  it('should map and store the alerts with their MITRE techniques', async () => {
    const { accountId, connectionId } = await connect('V2');
    await newPoller().poll(connectionId);

    const alerts = await alertsOf(accountId);
    const byType = (type: string) => alerts.filter((alert) => alert.alertType === type);
    expect(byType('Unsafe Email Attachment').map((alert) => [alert.fileName, alert.mitreId])).toEqual([['Sandbox Test.xlsx', 'T1598.002']]);
    expect(byType('Impersonation Attempt')).toHaveLength(5);
    expect(byType('Impersonation Attempt').every((alert) => alert.mitreId === 'T1598.003')).toBe(true);
    expect(byType('Default Inbound URL Protect Definition').map((alert) => alert.mitreName)).toEqual([
      'Spearphishing Link',
      'Spearphishing Link',
      'Spearphishing Link',
    ]);
    expect(byType('Invalid Recipient')).toMatchObject([{ mitreId: 'TA0005', recipient: 'ann@acme.example', url: 'https://evil.example/login' }]);
    expect(byType('Default Internal URL Protect Definition').map((alert) => alert.mitreId)).toEqual([null, null]);
  });

  it('should keep malformed records aside and count clean ones without storing them', async () => {
    const { accountId, connectionId } = await connect('V2');
    const result = await newPoller().poll(connectionId);

    const malformed = await newService().listMalformedAlerts(accountId);
    expect(malformed.map((record) => [record.logType, record.reason]).sort()).toEqual([
      ['attachment', 'recipientAddress must be a non-empty string'],
      ['url', 'userEmailAddress must be a non-empty string'],
    ]);
    const alerts = await alertsOf(accountId);
    expect(alerts.some((alert) => (alert.raw as { result?: string }).result === 'safe')).toBe(false);
    expect(alerts.some((alert) => (alert.raw as { scanResult?: string }).scanResult === 'clean')).toBe(false);
    const [run] = await newService().listPollRuns(accountId);
    expect(run).toMatchObject({ id: result.runId, outcome: 'SUCCEEDED', malformed: 2, clean: 9, stored: 12, unmapped: 2, pages: 12 });
    expect(run!.finishedAt).not.toBeNull();
  });

  it('should announce each new alert once in the outbox for the export', async () => {
    const { accountId, connectionId } = await connect('V2');
    await newPoller().poll(connectionId);
    // Forget the cursors: the whole history comes again and is recognised as duplicates.
    await db.prisma.mimecastPollCursor.deleteMany({ where: { connectionId } });
    const again = await newPoller().poll(connectionId);

    expect(again.counts).toMatchObject({ stored: 0, duplicates: DATASET_TOTALS.stored });
    const alertIds = (await alertsOf(accountId)).map((alert) => alert.id).sort();
    const events = await db.prisma.outboxEvent.findMany({ where: { topic: THIRD_PARTY_ALERT_TOPIC, aggregateId: { in: alertIds } } });
    expect(events.map((event) => event.aggregateId).sort()).toEqual(alertIds);
    expect(events[0]!.payload).toEqual({ alertId: events[0]!.aggregateId, accountId });
  });

  it('should neither repeat nor skip anything when a poll dies in the middle of paging', async () => {
    const { accountId, connectionId } = await connect('V2');
    // The third URL page is fetched, then the process "dies" before committing it.
    let commits = 0;
    const crashing = Object.create(repository) as ThirdPartyAlertRepository;
    crashing.commitPage = async (input) => {
      if (input.logType === 'URL' && ++commits === 3) {
        throw new Error('process killed');
      }
      return repository.commitPage(input);
    };
    const first = await new MimecastPollerService(crashing, options).poll(connectionId);
    expect(first.status).toBe(MimecastPollStatus.Failed);
    expect(first.errors).toEqual(['url: process killed']);
    const urlPagesBefore = server.logRequests(URL_PATH);
    expect(urlPagesBefore).toHaveLength(3);

    const second = await newPoller().poll(connectionId);

    expect(second.status).toBe(MimecastPollStatus.Succeeded);
    const urlPagesAfter = server.logRequests(URL_PATH).slice(3);
    // The restart asks again for the uncommitted page (same token, same window) and goes on from there.
    expect(urlPagesAfter[0]).toEqual(urlPagesBefore[2]);
    expect(urlPagesAfter).toHaveLength(3);
    expect(first.counts.duplicates + second.counts.duplicates).toBe(0);
    const alerts = await alertsOf(accountId);
    expect(alerts).toHaveLength(DATASET_TOTALS.stored);
    expect(new Set(alerts.map((alert) => alert.dedupHash)).size).toBe(DATASET_TOTALS.stored);
    // Attachment and impersonation logs were finished by the first poll and are not asked for again.
    expect(second.counts.pages).toBe(3);
  });

  it('should poll the next window from where the last one ended', async () => {
    const { accountId, connectionId } = await connect('V1');
    await newPoller().poll(connectionId);
    clock = new Date('2024-11-18T01:00:00Z');
    server.addLogs('url', [
      {
        userEmailAddress: 'bob@acme.example',
        fromUserEmailAddress: 'x@evil.example',
        url: 'https://evil.example/2',
        ttpDefinition: '',
        creationMethod: 'Default URL Protection',
        scanResult: 'malicious',
        date: '2024-11-18T00:30:00+0000',
      },
    ]);

    const second = await newPoller().poll(connectionId);

    expect(second.counts).toMatchObject({ stored: 1, received: 1, pages: 3 });
    expect(server.logRequests(URL_PATH).at(-1)).toMatchObject({ from: '2024-11-18T00:00:00+0000', to: '2024-11-18T01:00:00+0000' });
    const [alert] = await db.prisma.thirdPartyAlert.findMany({ where: { accountId, recipient: 'bob@acme.example' } });
    expect(alert).toMatchObject({ alertType: 'Default URL Protection', mitreId: 'T1598.003' });
  });

  it('should treat fail[] on HTTP 200 as an error and still poll the other logs', async () => {
    const { accountId, connectionId } = await connect('V2');
    server.fault(IMPERSONATION_PATH, { fail: [{ code: 'err_ttp_not_licensed', message: 'Impersonation Protect is not enabled', retryable: false }] });

    const result = await newPoller().poll(connectionId);

    expect(result.status).toBe(MimecastPollStatus.Failed);
    expect(result.errors).toEqual([expect.stringContaining('err_ttp_not_licensed')]);
    const alerts = await alertsOf(accountId);
    expect(alerts.filter((alert) => alert.logType === 'impersonation')).toHaveLength(0);
    expect(alerts).toHaveLength(DATASET_TOTALS.stored - 5);
    const [run] = await newService().listPollRuns(accountId);
    expect(run).toMatchObject({ outcome: 'FAILED', error: expect.stringContaining('Impersonation Protect is not enabled') });

    // The impersonation cursor did not move: the next poll fetches its whole window.
    const next = await newPoller().poll(connectionId);
    expect(next.counts).toMatchObject({ stored: 5, pages: 3 });
  });

  it('should wait as long as Retry-After says on 429, in seconds or as an HTTP date', async () => {
    const { accountId, connectionId } = await connect('V2');
    server.fault(URL_PATH, { status: 429, retryAfter: '3' }, { status: 429, retryAfter: new Date(clock.getTime() + 7000).toUTCString() });

    const result = await newPoller().poll(connectionId);

    expect(result.status).toBe(MimecastPollStatus.Succeeded);
    expect(sleeps).toEqual([3000, 7000]);
    expect(await alertsOf(accountId)).toHaveLength(DATASET_TOTALS.stored);
  });

  it('should really wait before retrying after a 429', async () => {
    const { connectionId } = await connect('V1');
    server.fault(URL_PATH, { status: 429, retryAfter: '1' });
    const started = Date.now();

    const result = await newPoller({ client: {} }).poll(connectionId);

    expect(result.status).toBe(MimecastPollStatus.Succeeded);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const urlAnswers = server.requests.filter((request) => request.path === URL_PATH).map((request) => request.status);
    expect(urlAnswers.slice(0, 2)).toEqual([429, 200]);
  });

  it('should back off exponentially on 5xx and fail the poll once the retries are spent', async () => {
    const { connectionId } = await connect('V1');
    server.fault(ATTACHMENT_PATH, { status: 503 }, { status: 502 });

    const recovered = await newPoller().poll(connectionId);
    expect(recovered.status).toBe(MimecastPollStatus.Succeeded);
    expect(sleeps).toEqual([10, 20]);

    sleeps.length = 0;
    clock = new Date('2024-11-18T01:00:00Z');
    server.fault(ATTACHMENT_PATH, { status: 500 }, { status: 500 }, { status: 500 });
    const failed = await newPoller({ client: { ...options.client, maxRetries: 2 } }).poll(connectionId);
    expect(failed.status).toBe(MimecastPollStatus.Failed);
    expect(failed.errors).toEqual(['attachment: Mimecast answered 500 on /api/ttp/attachment/get-logs']);
    expect(sleeps).toEqual([10, 20]);
  });

  it('should fetch a new token once when Mimecast answers 401 to an expired one', async () => {
    const { connectionId } = await connect('V2');
    const poller = newPoller();
    await poller.poll(connectionId);
    server.expireTokens();
    // Well within the token's lifetime, so the cache still holds it and only the 401 can reveal it expired.
    clock = new Date('2024-11-18T00:05:00Z');

    const result = await poller.poll(connectionId);

    expect(result.status).toBe(MimecastPollStatus.Succeeded);
    expect(server.requests.filter((request) => request.path === '/oauth/token')).toHaveLength(2);
    expect(server.requests.filter((request) => request.status === 401)).toHaveLength(1);
  });

  it('should close the run of a poll whose process died', async () => {
    const { accountId, connectionId } = await connect('V2');
    const orphan = await repository.startRun(connectionId, new Date('2024-11-17T23:00:00Z'));

    await newPoller().poll(connectionId);

    const runs = await newService().listPollRuns(accountId);
    expect(runs.find((run) => run.id === orphan.id)).toMatchObject({ outcome: 'FAILED', error: expect.stringMatching(/^interrupted/) });
    expect(runs.filter((run) => run.outcome === 'SUCCEEDED')).toHaveLength(1);
  });

  it('should not poll a connection another poll is holding', async () => {
    const { connectionId } = await connect('V2');
    expect(await repository.acquireLease(connectionId, clock, new Date(clock.getTime() + 60_000))).toBe(true);

    const result = await newPoller().poll(connectionId);

    expect(result).toMatchObject({ status: MimecastPollStatus.Skipped, runId: null });
    expect(server.requests).toHaveLength(0);
  });
});
