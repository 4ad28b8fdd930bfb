import { ApiProperty } from '@nestjs/swagger';
import { VerdictSummaryDto } from './verdict-summary.dto';

export class MessageSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['JOURNAL', 'GATEWAY', 'MAILFLOW'] })
  source!: string;

  @ApiProperty({ enum: ['INBOUND', 'OUTBOUND', 'INTERNAL', 'EXTERNAL'] })
  direction!: string;

  @ApiProperty()
  envelopeFrom!: string;

  @ApiProperty({ type: [String] })
  envelopeTo!: string[];

  @ApiProperty({ type: String, nullable: true })
  headerFrom!: string | null;

  @ApiProperty({ type: String, nullable: true })
  subject!: string | null;

  @ApiProperty({ type: String, nullable: true })
  messageIdHeader!: string | null;

  @ApiProperty()
  size!: number;

  @ApiProperty({ type: String, format: 'date-time' })
  receivedAt!: string;

  @ApiProperty({ enum: ['PENDING', 'SCANNED', 'SKIPPED', 'UNPARSEABLE', 'FAILED'] })
  scanStatus!: string;

  @ApiProperty({ description: 'Scan attempts started (while PENDING: so far, a retried scan counting each)' })
  scanAttempts!: number;

  @ApiProperty({ type: String, nullable: true, description: 'Why the scan FAILED (or the last error of a scan still being retried)' })
  scanError!: string | null;

  @ApiProperty({ enum: ['NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED'] })
  deliveryState!: string;

  @ApiProperty({ type: [VerdictSummaryDto] })
  verdicts!: VerdictSummaryDto[];
}
