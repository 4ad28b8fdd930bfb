import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';
import { DB_OPTIONS } from './db.constants';

export interface DbOptions {
  databaseUrl: string;
  poolSize?: number;
}

/** Builds a Prisma client on the node-postgres driver adapter (no native engine needed). */
export function createPrismaClient(options: DbOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
  });
  return new PrismaClient({ adapter });
}

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(@Inject(DB_OPTIONS) options: DbOptions) {
    super({
      adapter: new PrismaPg({
        connectionString: options.databaseUrl,
        max: options.poolSize ?? 10,
        connectionTimeoutMillis: 5000,
      }),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
