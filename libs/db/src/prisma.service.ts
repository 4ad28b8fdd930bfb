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

/**
 * The client of the reads that may be served by a replica (DATABASE_READ_URL): message history search and the
 * dashboard statistics. Never used for a write (a replica refuses them). Without a separate read URL, DbModule makes
 * this token the primary's {@link PrismaService}.
 */
@Injectable()
export class PrismaReadService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(@Inject(DB_OPTIONS) options: DbOptions) {
    const { pool, adapter } = createPgPool({ databaseUrl: options.readDatabaseUrl ?? options.databaseUrl, poolSize: options.poolSize });
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

/** Whether the options name a read database other than the primary. */
export const hasReadReplica = (options: DbOptions): boolean => !!options.readDatabaseUrl && options.readDatabaseUrl !== options.databaseUrl;
