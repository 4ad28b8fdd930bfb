import { ApiProperty } from '@nestjs/swagger';

export class EmergencyInboxEntryDto {
  @ApiProperty({ format: 'uuid', description: 'The message id (read it at …/emergency-inbox/{messageId})' })
  id!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  receivedAt!: string;

  @ApiProperty()
  envelopeFrom!: string;

  @ApiProperty({ type: String, nullable: true })
  headerFrom!: string | null;

  @ApiProperty({ type: String, nullable: true })
  subject!: string | null;

  @ApiProperty()
  size!: number;

  @ApiProperty({ enum: ['NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED'], description: "The message's delivery state" })
  deliveryState!: string;
}
