import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PrismaClient } from './generated/prisma/client';
import { DB_OPTIONS } from './db.constants';
import { attachPgPool, createPgPool, type DbOptions } from './sql';

export { createPrismaClient, type DbOptions } from './sql';

/** The app's Prisma client on the node-postgres driver adapter (no native engine needed), sharing its pool with sqlQuery. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(@Inject(DB_OPTIONS) options: DbOptions) {
    const { pool, adapter } = createPgPool(options);
    super({ adapter });
    attachPgPool(this, pool);
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
