import { ApiProperty } from '@nestjs/swagger';
import { MessageQuarantineRefDto } from './message-quarantine-ref.dto';
import { VerdictDto } from './verdict.dto';

export class MessageDetailDto {
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

  @ApiProperty({ type: String, nullable: true })
  clientIp!: string | null;

  @ApiProperty({ type: String, nullable: true })
  helo!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  receivedAt!: string;

  @ApiProperty({ enum: ['PENDING', 'SCANNED', 'SKIPPED', 'UNPARSEABLE'] })
  scanStatus!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  scannedAt!: string | null;

  @ApiProperty({ enum: ['NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED'] })
  deliveryState!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Journal report details, connector, parse errors' })
  metadata!: object;

  @ApiProperty({ type: [VerdictDto], description: 'Per recipient: every check with evidence, decided and applied action, enforced' })
  verdicts!: VerdictDto[];

  @ApiProperty({ type: [MessageQuarantineRefDto] })
  quarantine!: MessageQuarantineRefDto[];
}
