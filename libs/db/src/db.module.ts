import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DB_OPTIONS, RAW_MESSAGE_STORE } from './db.constants';
import { PostgresHealthIndicator } from './postgres.health';
import { PrismaService, type DbOptions } from './prisma.service';
import { PostgresRawMessageStore } from './raw-message-store';
import { AccountRepository } from './repositories/account.repository';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { AuditRepository } from './repositories/audit.repository';
import { DomainRepository } from './repositories/domain.repository';
import { MessageRepository } from './repositories/message.repository';
import { ThirdPartyAlertRepository } from './repositories/third-party-alert.repository';

const REPOSITORIES = [AccountRepository, DomainRepository, MessageRepository, ApiKeyRepository, AuditRepository, ThirdPartyAlertRepository];

@Global()
@Module({})
export class DbModule {
  static forRoot(options: DbOptions): DynamicModule {
    return {
      module: DbModule,
      providers: [
        { provide: DB_OPTIONS, useValue: options },
        { provide: RAW_MESSAGE_STORE, useClass: PostgresRawMessageStore },
        PrismaService,
        PostgresHealthIndicator,
        ...REPOSITORIES,
      ],
      exports: [PrismaService, PostgresHealthIndicator, RAW_MESSAGE_STORE, ...REPOSITORIES],
    };
  }
}
