import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class QuickTestHopDto {
  @ApiProperty({ enum: ['accepted-by-exchange', 'scanned-by-mailwarden', 'relayed-to-exchange', 'arrived-in-mailbox'] })
  hop!: string;

  @ApiProperty({ enum: ['passed', 'failed', 'not-reached'] })
  status!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  at!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'From sending to seeing the hop' })
  elapsedMs!: number | null;

  @ApiProperty()
  detail!: string;
}

/** QuickTestService's answer (libs/delivery), or the Microsoft 365 path's (libs/microsoft365 MailflowQuickTestService). */
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

  @ApiPropertyOptional({
    enum: ['SCANNER', 'MICROSOFT365'],
    description: "SCANNER: sent to the scanner's SMTP front. MICROSOFT365 (a mailflow domain of an account with a Microsoft 365 connection): sent into Exchange Online and followed hop by hop",
  })
  path?: string;

  @ApiPropertyOptional({ type: [QuickTestHopDto], description: 'MICROSOFT365 path: each hop in path order' })
  hops?: QuickTestHopDto[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'MICROSOFT365 path: the first hop that did not happen' })
  failedHop?: string | null;

  @ApiPropertyOptional({ format: 'uuid', description: 'MICROSOFT365 path: the recorded quick test' })
  quickTestId?: string;
}
