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

  @ApiProperty({ enum: ['PENDING', 'SCANNED', 'SKIPPED', 'UNPARSEABLE'] })
  scanStatus!: string;

  @ApiProperty({ enum: ['NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED'] })
  deliveryState!: string;

  @ApiProperty({ type: [VerdictSummaryDto] })
  verdicts!: VerdictSummaryDto[];
}
