import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QueueName } from '@mailwarden/queue';
import { JournalSmtpServer } from '../smtp/journal-smtp.server';
import { IngestService } from './ingest.service';

@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Scan })],
  providers: [IngestService, JournalSmtpServer],
  exports: [JournalSmtpServer],
})
export class IngestModule {}
