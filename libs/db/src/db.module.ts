import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DB_OPTIONS, RAW_MESSAGE_STORE } from './db.constants';
import { PostgresHealthIndicator } from './postgres.health';
import { hasReadReplica, PrismaReadService, PrismaService, type DbOptions } from './prisma.service';
import { ReadReplicaRouter } from './read-replica';
import { PostgresRawMessageStore } from './repositories/message/raw-message-store';
import { AccountRepository } from './repositories/account/account.repository';
import { ApiKeyRepository } from './repositories/api-key/api-key.repository';
import { AuditRepository } from './repositories/audit/audit.repository';
import { DirectoryRepository } from './repositories/directory/directory.repository';
import { DomainRepository } from './repositories/domain/domain.repository';
import { DeliveryRepository } from './repositories/delivery/delivery.repository';
import { MessageRepository } from './repositories/message/message.repository';
import { IncomingCommitter } from './repositories/message/incoming-committer';
import { VerdictCommitter } from './repositories/message/verdict-committer';
import { ProcessedCommitter } from './repositories/delivery/processed-committer';
import { ScanContextRepository } from './repositories/scan-context/scan-context.repository';
import { ThirdPartyAlertRepository } from './repositories/third-party-alert/third-party-alert.repository';
import { MessageHistoryRepository } from './repositories/message/message-history.repository';
import { StatisticsRepository } from './repositories/statistics/statistics.repository';
import { ModeMigrationRepository } from './repositories/mode-migration/mode-migration.repository';
import { PolicyRepository } from './repositories/policy/policy.repository';
import { QuarantineRepository } from './repositories/quarantine/quarantine.repository';
import { Microsoft365Repository } from './repositories/microsoft365/microsoft365.repository';
import { ExportRepository } from './repositories/export/export.repository';
import { MailflowHealthRepository } from './repositories/mailflow/mailflow-health.repository';
import { MailflowObjectRepository } from './repositories/mailflow/mailflow-object.repository';
import { RetentionRepository } from './repositories/retention/retention.repository';
import { DkimKeyRepository } from './repositories/dkim-key/dkim-key.repository';
import { AdminUserRepository } from './repositories/admin-user/admin-user.repository';

const REPOSITORIES = [AccountRepository, DomainRepository, MessageRepository, ScanContextRepository, ApiKeyRepository, AuditRepository, ThirdPartyAlertRepository, DeliveryRepository, ExportRepository, MailflowObjectRepository];
// Admin API repositories (issue 6). One repository per aggregate: libs/db/README.md says what each owns.
const ADMIN_REPOSITORIES = [DirectoryRepository, PolicyRepository, MessageHistoryRepository, QuarantineRepository, ModeMigrationRepository, StatisticsRepository];
// Microsoft 365 connection, directory sync and clawback (issue 15).
const MICROSOFT365_REPOSITORIES = [Microsoft365Repository];
// Retention purge (issue 20).
const RETENTION_REPOSITORIES = [RetentionRepository];
// Outbound DKIM signing keys (issue 16): the admin API manages them, the scanner's delivery signs with them.
const DKIM_REPOSITORIES = [DkimKeyRepository];
// Microsoft 365 mailflow quick test and tamper check (issue 16).
const MAILFLOW_HEALTH_REPOSITORIES = [MailflowHealthRepository];
// People signing in: users, sessions, OpenID Connect sign-ins in flight (issue 18).
const AUTH_REPOSITORIES = [AdminUserRepository];
// The group commits (issue 20): the journal ingest stores through the first; the scans write verdicts and count attempts through the second; the gateway front stores through the third.
const COMMITTERS = [IncomingCommitter, VerdictCommitter, ProcessedCommitter];

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
        // History search and statistics read from DATABASE_READ_URL when it names another database.
        hasReadReplica(options) ? PrismaReadService : { provide: PrismaReadService, useExisting: PrismaService },
        // …while the replica lags at most readMaxLagSeconds; the primary otherwise.
        ReadReplicaRouter,
        PostgresHealthIndicator,
        ...REPOSITORIES,
        ...ADMIN_REPOSITORIES,
        ...MICROSOFT365_REPOSITORIES,
        ...RETENTION_REPOSITORIES,
        ...DKIM_REPOSITORIES,
        ...MAILFLOW_HEALTH_REPOSITORIES,
        ...AUTH_REPOSITORIES,
        ...COMMITTERS,
      ],
      exports: [PrismaService, PrismaReadService, ReadReplicaRouter, PostgresHealthIndicator, RAW_MESSAGE_STORE, ...REPOSITORIES, ...ADMIN_REPOSITORIES, ...MICROSOFT365_REPOSITORIES, ...RETENTION_REPOSITORIES, ...DKIM_REPOSITORIES, ...MAILFLOW_HEALTH_REPOSITORIES, ...AUTH_REPOSITORIES, ...COMMITTERS],
    };
  }
}
