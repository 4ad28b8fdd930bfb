import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
import { ExportScheduler } from '@mailwarden/export';
import { MailflowHealthQueues, Microsoft365Queues } from '@mailwarden/microsoft365';
import { MimecastPollScheduler } from '@mailwarden/mimecast';
import { DEFAULT_JOB_OPTIONS, JobQueues, JobWorkers, type JobQueue } from '@mailwarden/queue';
import { ScanContextCache, ScanMessageService } from '@mailwarden/scanning';
import { createTestDatabase, createTestRedis, freePort, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { scannerConsumedQueues } from './app.module';
import { createScanner } from './scanner.app';
import { GatewayIntakeService } from './smtp/gateway-intake.service';

describe('scanner jobs and shared caches (SCANNER_ROLE=all)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let scanner: INestApplication | undefined;

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
  });

  afterAll(async () => {
    await scanner?.close();
    await redis?.cleanup();
    await db?.drop();
  });

  it('should run one ScanContextCache for the gateway and the scan worker, and a worker for every queue of its role', async () => {
    const config = loadConfig('scanner', {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'fatal',
      SCANNER_ROLE: 'all',
      SCANNER_SMTP_PORT: String(await freePort()),
      SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    scanner = await createScanner(config, false);
    await scanner.init();

    const caches = scanner.get(ScanContextCache, { strict: false, each: true });
    expect(caches).toHaveLength(1);
    const gatewayCache: unknown = Reflect.get(scanner.get(GatewayIntakeService, { strict: false }), 'context');
    const scanCache: unknown = Reflect.get(scanner.get(ScanMessageService, { strict: false }), 'context');
    expect(gatewayCache).toBe(caches[0]);
    expect(scanCache).toBe(caches[0]);

    expect(scanner.get(JobWorkers).consumed().sort()).toEqual(scannerConsumedQueues(config).sort());
  });

  it('should add every job of its producers through the app\'s one JobQueues (its connection, prefix and job defaults)', () => {
    const queues = scanner!.get(JobQueues);
    const microsoft365 = scanner!.get(Microsoft365Queues, { strict: false });
    const producers: JobQueue[] = [
      microsoft365.sync,
      microsoft365.remediation,
      scanner!.get(MailflowHealthQueues, { strict: false }).jobs,
      scanner!.get(MimecastPollScheduler, { strict: false }).jobs,
      scanner!.get(ExportScheduler, { strict: false }).jobs,
    ];
    for (const producer of producers) {
      expect(producer).toBe(queues.get(producer.name));
      expect(producer.queue.opts.prefix).toBe(redis.prefix);
      expect(producer.queue.defaultJobOptions).toEqual(DEFAULT_JOB_OPTIONS);
    }
  });
});
