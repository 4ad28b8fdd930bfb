import { Module } from '@nestjs/common';
import { ScanContextModule, ScanMessageService } from '@mailwarden/scanning';
import { JournalSmtpServer } from '../smtp/journal-smtp.server';
import { IngestService } from './ingest.service';
import { PostCommitScans } from './post-commit-scans.service';

/** The journal SMTP listener, the ingest and its scans after the commit. Needs DbModule, QueueModule and SenderChecksModule. */
@Module({
  imports: [ScanContextModule],
  providers: [IngestService, JournalSmtpServer, ScanMessageService, PostCommitScans],
  exports: [JournalSmtpServer],
})
export class IngestModule {}
