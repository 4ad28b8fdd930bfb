import { Module } from '@nestjs/common';
import { JournalSmtpServer } from '../smtp/journal-smtp.server';
import { IngestService } from './ingest.service';

@Module({
  providers: [IngestService, JournalSmtpServer],
  exports: [JournalSmtpServer],
})
export class IngestModule {}
