import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** QuickTestService's answer (libs/delivery). */
export class QuickTestResultDto {
  @ApiProperty({ format: 'uuid' })
  domainId!: string;

  @ApiProperty()
  domain!: string;

  @ApiProperty()
  recipient!: string;

  @ApiProperty({ description: "The scanner's SMTP front accepted the test message (250 to DATA)" })
  accepted!: boolean;

  @ApiProperty({ description: 'The copy reached the downstream (DELIVERED) within the wait' })
  arrived!: boolean;

  @ApiProperty({ enum: ['NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED'], nullable: true, description: 'The state the message reached; null when it was never stored' })
  deliveryState!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The stored test message (see its history)' })
  messageId!: string | null;

  @ApiProperty({ description: 'From sending to DELIVERED (or to giving up)' })
  elapsedMs!: number;

  @ApiPropertyOptional({ description: 'Why the front refused it (SMTP reply or connection error)' })
  error?: string;
}
