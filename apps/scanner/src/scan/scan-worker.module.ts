import { Module } from '@nestjs/common';
import { ScanContextModule, ScanMessageService } from '@mailwarden/scanning';
import { ScanMessageProcessor } from './scan-message.processor';
import { ScanSweeperService } from './scan-sweeper.service';
import { StatsCompactorService } from './stats-compactor.service';
import { RetentionService } from '../retention/retention.service';
import { SearchIndexFlushService } from '../retention/search-index-flush.service';

/** The scan workers (SCANNER_ROLE worker or all). Needs DbModule, QueueModule and SenderChecksModule. */
@Module({
  imports: [ScanContextModule],
  providers: [ScanMessageService, ScanMessageProcessor, ScanSweeperService, StatsCompactorService, RetentionService, SearchIndexFlushService],
  exports: [ScanSweeperService],
})
export class ScanWorkerModule {}
