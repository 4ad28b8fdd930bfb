import { randomBytes } from 'node:crypto';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DbModule } from '@mailwarden/db';
import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { MimecastModule } from './mimecast.module';
import { MimecastPollerService } from './mimecast-poller.service';
import { MimecastService } from './mimecast.service';

describe(MimecastModule.name, () => {
  let db: TestDatabase;
  let app: INestApplicationContext;

  beforeAll(async () => {
    db = await createTestDatabase();
    @Module({ imports: [DbModule.forRoot({ databaseUrl: db.url, poolSize: 2 }), MimecastModule.forRoot({ secretsKey: randomBytes(32).toString('base64') })] })
    class AppModule {}
    app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('should wire the services on the app database without a scheduler', async () => {
    const account = await new TestFactories(db.prisma).newAccount();
    const service = app.get(MimecastService);

    const view = await service.configureConnection(account.id, {
      apiVersion: 'V2',
      baseUrl: 'https://api.services.mimecast.com',
      credentials: { clientId: 'id', clientSecret: 'secret' },
    });

    expect(await service.getConnection(account.id)).toEqual(view);
    expect(app.get(MimecastPollerService)).toBeInstanceOf(MimecastPollerService);
  });
});
